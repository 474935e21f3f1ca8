"""The serial executor: one case at a time in a worker process, so a crash, a hang or a leak costs one case.

The parent sends plain case dicts over a pipe and gets back finished records. TensorFlow is imported
once per worker, not per case. A worker that dies (segfault, ``os._exit``, killed for memory) or
outlives the case timeout is killed and its case recorded ``failed`` with the reason; the next case
gets a fresh worker. Workers are also replaced every ``MAX_CASES_PER_WORKER`` cases (bench/execute/contract.py).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from typing import Any

from bench.core.errors import WorkerStartFailed
from bench.execute.in_worker import CaseRun, HeldGroup, quiet_framework_output, run_group, start_worker
from bench.execute.across_backends import StepFailed, run_across
from bench.execute.timing_groups import Affinity, backend_of, group_key
from bench.execute.contract import MAX_CASES_PER_WORKER, START_TIMEOUT, Finished
from bench.results.records import new_record, now
from bench.suite import Case



class SerialExecutor:
    """Cases one after another (``--workers 1``), each in the worker of its Keras backend.

    A worker serves one backend (KERAS_BACKEND is read once per process), so a run that spans
    backends keeps one worker per backend alive and hands each case to its own: the run's
    shuffled order is kept, and a slow spell of the machine is spread over the backends instead
    of landing on whichever ran last. Workers' own output goes to ``log_path`` when given. A
    backend whose worker cannot start is listed in ``unavailable`` with the reason.
    """

    def __init__(self, run_id: str, threads: int | None, keras_backends=("tensorflow",),
                 log_path: str | None = None):
        self.run_id = run_id
        self.threads = threads
        self.log_path = log_path
        self.workers: dict[str, Worker] = {}
        self.current: str | None = None
        self.affinity = Affinity()  # a configuration's seeds one after another: its traced steps are kept
        self.frameworks: dict[str, dict] = {}
        self.gpu_reasons: dict[str, str | None] = {}
        self.unavailable: dict[str, str] = {}
        info = None
        for name in keras_backends:
            try:
                info = self.fresh_worker(name).info
            except WorkerStartFailed as exc:
                self.unavailable[name] = str(exc)
                continue
            self.frameworks[name], self.gpu_reasons[name] = info["framework"], info["gpu_reason"]
        if info is None:
            raise WorkerStartFailed("; ".join(self.unavailable.values()))
        self.host = info["host"]
        self.placement = placement(info)

    def describe(self) -> dict:
        return {"executor": "serial", "workers": 1, "threads": self.placement["threads"], "started_at": now()}

    def running_by_node(self) -> dict[str, int]:
        return {self.host: 1} if self.current else {}

    def execute(self, cases: list[Case], finished: Finished, more=None) -> None:
        queue = deque(cases)
        while queue or more is not None:
            if not queue:
                queue.extend(more())
                if not queue:
                    return
            group = self.affinity.take(queue)
            self.current = group[0].case_id
            for record, benchmarks in self.run_group(group):
                finished(record, benchmarks, self.host)
            self.current = None

    def run_group(self, cases: list[Case]) -> list[tuple[dict, list]]:
        """A setting's candidates (bench.execute.timing_groups) trained in one worker, then timed
        there interleaved; if that worker dies, each case runs again alone, so only the case that
        caused it fails."""
        if len(cases) == 1:
            return [self.run_one(cases[0])]
        if len({backend_of(case) for case in cases}) > 1:
            return self.run_across(cases)
        name = backend_of(cases[0])
        worker = self.workers.get(name)
        if worker is None or worker.cases_run + len(cases) > MAX_CASES_PER_WORKER:
            worker = self.fresh_worker(name)
        try:
            results = worker.run_group(cases, group_key(cases[0], frozenset(a for c in cases for a in c.not_applicable)))
        except CaseAborted:
            self.workers.pop(name, None)
            return [self.run_one(case) for case in cases]
        if any(record["status"] == "failed" for record, _ in results):
            self.workers.pop(name).close()  # as in run_one: the next case gets a fresh worker
        return results

    def run_across(self, cases: list[Case]) -> list[tuple[dict, list]]:
        """A group that spans backends: each backend's worker trains its share, then they take turns
        timing round by round (bench.execute.across_backends); should a worker die or a step fail,
        each case runs again alone, so only the case that caused it fails."""
        names = list(dict.fromkeys(backend_of(case) for case in cases))
        workers = {}
        for name in names:
            worker = self.workers.get(name)
            share = sum(backend_of(case) == name for case in cases)
            workers[name] = worker if worker is not None and worker.cases_run + share <= MAX_CASES_PER_WORKER \
                else self.fresh_worker(name)
        try:
            results = run_across(workers, cases, group_key(cases[0], frozenset(a for c in cases for a in c.not_applicable)))
        except (CaseAborted, StepFailed):
            for name in names:
                worker = self.workers.pop(name, None)
                if worker is not None:
                    worker.kill()
            return [self.run_one(case) for case in cases]
        for name in names:
            if any(record["status"] == "failed" and record.get("backend") == name for record, _ in results):
                self.workers.pop(name).close()
        return results

    def run_one(self, case: Case) -> tuple[dict, list]:
        name = backend_of(case)
        worker = self.workers.get(name)
        if worker is None or worker.cases_run >= MAX_CASES_PER_WORKER:
            worker = self.fresh_worker(name)
        try:
            record, benchmarks = worker.run(case, case.timing["case_timeout"])
        except CaseAborted as exc:
            self.workers.pop(name, None)  # dead or killed; the next case starts a new one
            record = new_record(case, self.run_id)
            record.update(self.placement, status="failed", error=str(exc))
            return record, []
        if record["status"] == "failed":
            # An exception may leave the worker unfit (a lowered memory limit, a wedged device):
            # the next case gets a fresh one.
            self.workers.pop(name).close()
        return record, benchmarks

    def fresh_worker(self, name: str) -> "Worker":
        old = self.workers.pop(name, None)
        if old is not None:
            old.close()
        self.workers[name] = Worker(self.run_id, self.threads, name, self.log_path)
        return self.workers[name]

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.kill()
        self.workers.clear()


class CaseAborted(Exception):
    """The worker died or timed out during a case; ``str()`` is the reason for the record."""


class Worker:
    """One worker process. ``run`` returns ``(record, benchmarks)`` or raises CaseAborted."""

    def __init__(self, run_id: str, threads: int | None = None, backend: str = "tensorflow",
                 log_path: str | None = None):
        context = multiprocessing.get_context("spawn")  # fork would copy a half-initialised TF
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, run_id, threads, backend, log_path), daemon=True,
                                        name="normbench-worker")
        self._process.start()
        child.close()
        self.cases_run = 0
        try:
            message = self._receive(START_TIMEOUT, "starting")
        except CaseAborted as exc:
            raise WorkerStartFailed(f"the worker process could not start: {exc}") from None
        except BaseException:  # Ctrl-C or SIGTERM while TensorFlow imports: leave no worker behind
            self.kill()
            raise
        if message[0] == "error":
            self.kill()
            raise WorkerStartFailed(f"the worker could not load Keras on {backend}: {message[1]}")
        self.info: dict[str, Any] = message[1]

    def run(self, case: Case, timeout: float) -> tuple[dict, list]:
        self.cases_run += 1
        self._send(("case", case.to_dict()))
        _, record, benchmarks = self._receive(timeout, f"case {case.case_id}")
        return record, benchmarks

    def run_group(self, cases: list[Case], timing_group: str) -> list[tuple[dict, list]]:
        """The cases trained, then timed together (bench.execute.in_worker.run_group)."""
        self.cases_run += len(cases)
        self._send(("group", [case.to_dict() for case in cases], timing_group))
        _, results = self._receive(sum(case.timing["case_timeout"] for case in cases), "a timing group")
        return results

    def hold(self, cases: list[Case]) -> None:
        """Start training ``cases`` to hold for a timing across backends; :meth:`held` waits for it."""
        self.cases_run += len(cases)
        self._send(("hold", [case.to_dict() for case in cases]))

    def held(self, timeout: float) -> tuple[list, int]:
        """The results of the held cases that already ended (failed, skipped) and how many are held."""
        _, finished, count = self._receive(timeout, "training a group timed across backends")
        return finished, count

    def step(self, name: str, *args, timeout: float = 900.0):
        """One step of the held group's timing (bench.execute.in_worker.HeldGroup); raises
        StepFailed when it raised in the worker."""
        self._send(("step", name, args))
        _, ok, result = self._receive(timeout, f"the timing step {name}")
        if not ok:
            raise StepFailed(result)
        return result

    def _send(self, message) -> None:
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):
            raise CaseAborted(self._death_reason()) from None

    def _receive(self, timeout: float, doing: str):
        deadline = time.monotonic() + timeout
        while True:
            if self._conn.poll(0.2):
                try:
                    return self._conn.recv()
                except (EOFError, OSError):
                    raise CaseAborted(self._death_reason()) from None
            if not self._process.is_alive():
                raise CaseAborted(self._death_reason())
            if time.monotonic() > deadline:
                self.kill()
                raise CaseAborted(f"timed out after {timeout:g} s (worker killed)")

    def _death_reason(self) -> str:
        self._process.join(5)
        code = self._process.exitcode
        if code is None:
            self.kill()
            return "worker stopped answering (killed)"
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory, or killed from outside)" if name == "SIGKILL" else ""
            return f"worker killed by signal {name}{hint}"
        return f"worker exited with code {code}"

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(10)

    def close(self) -> None:
        """Ask the worker to stop; kill it if it does not within a few seconds."""
        try:
            self._conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self._process.join(5)
        self.kill()
        self._conn.close()


def placement(info: dict) -> dict:
    """Where and how a serial case runs: alone on the machine, so its timing is exclusive."""
    return {"executor": "serial", "node": info["host"], "slot_cpus": os.cpu_count(),
            "threads": info["threads"], "timing_exclusive": True}


def serve(conn, run_id: str, threads: int | None, backend: str = "tensorflow", log_path: str | None = None) -> None:
    """The worker's loop. Ctrl-C is the parent's to handle: the worker ignores SIGINT and is stopped
    by the parent, so an interrupt never leaves a half-written record behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_framework_output(log_path)
    try:
        info = start_worker(threads, backend)  # the framework loads here, once per worker
    except Exception as exc:  # noqa: BLE001 - e.g. a framework that cannot load on this machine
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        return
    conn.send(("ready", info))
    datasets: dict[str, Any] = {}  # lives as long as the worker
    held: HeldGroup | None = None  # this backend's share of a group timed across backends
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone (killed); nothing left to report to
            return
        if message[0] == "stop":
            return
        if message[0] == "hold":
            held = HeldGroup([Case.from_dict(case) for case in message[1]], run_id, datasets, placement(info))
            conn.send(("held", held.finished, len(held.held)))
            continue
        if message[0] == "step":
            name, args = message[1], message[2]
            try:
                if held is None or name not in HeldGroup.STEPS:
                    raise RuntimeError(f"no held group to {name}")
                conn.send(("stepped", True, getattr(held, name)(*args)))
            except Exception as exc:  # noqa: BLE001 - the driver falls back to timing each case alone
                conn.send(("stepped", False, f"{type(exc).__name__}: {exc}"[:500]))
            continue
        if message[0] == "group":
            cases = [Case.from_dict(case) for case in message[1]]
            conn.send(("done", run_group(cases, message[2], run_id, datasets, placement(info))))
            continue
        record, benchmarks = CaseRun(Case.from_dict(message[1]), run_id, datasets, placement(info)).run()
        conn.send(("done", record, benchmarks))
