"""Cases run in a separate worker process, so a crash, a hang or a leak costs one case, not the run.

The parent sends plain case dicts over a pipe and gets back finished records. TensorFlow is imported
once per worker, not per case. A worker that dies (segfault, ``os._exit``, killed for memory) or
outlives the case timeout is killed and its case recorded ``failed`` with the reason; the next case
gets a fresh worker. Workers are also replaced every ``MAX_CASES_PER_WORKER`` cases, because
TensorFlow keeps a few MiB per traced model that ``clear_session`` does not give back.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from typing import Any

from bench import faults, records
from bench.data import load_dataset
from bench.errors import ImplementationUnavailable, NormbenchError
from bench.suite import Case

MAX_CASES_PER_WORKER = 40
START_TIMEOUT = 300.0


class CaseAborted(Exception):
    """The worker died or timed out during a case; ``str()`` is the reason for the record."""


class Worker:
    """One worker process. ``run`` returns ``(record, benchmarks)`` or raises CaseAborted."""

    def __init__(self, run_id: str):
        context = multiprocessing.get_context("spawn")  # fork would copy a half-initialised TF
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, run_id), daemon=True,
                                        name="normbench-worker")
        self._process.start()
        child.close()
        self.cases_run = 0
        try:
            message = self._receive(START_TIMEOUT, "starting")
        except CaseAborted as exc:
            raise NormbenchError(f"the worker process could not start: {exc}") from None
        self.info: dict[str, Any] = message[1]

    def run(self, case: Case, timeout: float) -> tuple[dict, list]:
        self.cases_run += 1
        try:
            self._conn.send(("case", case.to_dict()))
        except (BrokenPipeError, OSError):
            raise CaseAborted(self._death_reason()) from None
        _, record, benchmarks = self._receive(timeout, f"case {case.case_id}")
        return record, benchmarks

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


def serve(conn, run_id: str) -> None:
    """The worker's loop. Ctrl-C is the parent's to handle: the worker ignores SIGINT and is stopped
    by the parent, so an interrupt never leaves a half-written record behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from bench.measure import case as measure  # TensorFlow loads here, once per worker
    from bench.measure.environment import framework, gpu_unavailable_reason

    conn.send(("ready", {"framework": framework(), "gpu_reason": gpu_unavailable_reason(),
                         "pid": os.getpid()}))
    datasets: dict[str, Any] = {}  # lives as long as the worker
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone (killed); nothing left to report to
            return
        if message[0] == "stop":
            return
        case = Case.from_dict(message[1])
        benchmarks: list[dict] = []
        record = run_case(case, run_id, datasets, benchmarks, measure)
        conn.send(("done", record, benchmarks))


def run_case(case: Case, run_id: str, datasets: dict, benchmarks: list, measure) -> dict:
    """Measure one case; an exception becomes a ``failed`` record (a failure is a result)."""
    record = records.new_record(case, run_id)
    try:
        faults.inject(case.case_id)
        if case.suite_kind == "layer":
            from bench.measure.layer_case import measure_layer_case  # TensorFlow is loaded already

            measure_layer_case(case, record, benchmarks)
        else:
            measure.measure_case(case, _dataset(case, datasets), record, benchmarks)
    except ImplementationUnavailable as exc:
        record.update(status="skipped", error=str(exc))
        benchmarks.clear()
    except Exception as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        benchmarks.clear()
    finally:
        measure.release_memory()
        record["worker_peak_rss_mb"] = peak_rss_mb()
    return record


def peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _dataset(case: Case, cache: dict):

    key = json.dumps([case.dataset, case.dataset_options], sort_keys=True)
    if key not in cache:
        cache[key] = load_dataset(case.dataset, case.dataset_options)
    return cache[key]
