"""The driver: order a run's cases, hand them to an executor, store each finished case at once.

The executor is the serial worker (``--workers 1``, :mod:`bench.execute.serial`) or a Ray cluster
(:mod:`bench.execute.ray_executor`). Either way only this process writes the run directory: every
finished case is on disk before the next is stored, a case that raises, crashes its worker or
times out becomes a ``failed`` record, and the run goes on. Ctrl-C, SIGTERM and a results disk that
refuses writes stop the run cleanly (state ``interrupted``, workers stopped); ``normbench run
--resume RUN`` then runs only the cases not yet recorded, on any executor.
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from bench.suite import catalog
from bench.core import provenance
from bench.results import records
from bench.measure import backends
from bench.execute.contract import Execution
from bench.execute.progress import Progress
from bench.execute.timing_groups import backend_of, spans_backends
from bench.core.errors import NormbenchError, WorkerStartFailed
from bench.results.store import RunStore
from bench.suite import Case, Suite, expand

@dataclass
class RunResult:
    store: RunStore
    counts: Counter
    interrupted: bool = False
    error: str | None = None  # why the run stopped early, when it was not Ctrl-C or SIGTERM


def run_info(suites: Sequence[Suite], quick: bool) -> dict:
    """The run.json content known before TensorFlow loads; the suites' full documents are kept so a
    resume runs exactly what was started even if the files changed since."""
    from bench import __version__

    return {
        "schema_version": records.SCHEMA_VERSION, "normbench": __version__, "argv": provenance.argv(),
        "quick": quick, "started_at": records.now(), "finished_at": None, "state": "running",
        "machine": provenance.machine(), "commit": provenance.git_commit(),
        "order_seed": secrets.randbelow(2**31),
        "suites": [{"name": s.name, "source": s.source, "sha256": s.sha256, "description": s.description,
                    "verdicts": s.verdicts,
                    "document": s.document} for s in suites],
    }


def interleave(cases: list[Case], seed: int) -> list[Case]:
    """The cases of each suite in a shuffled order (suites stay in turn), so a shared machine's slow
    drift spreads over normalizers and seeds instead of lining up with one of them. ``seed`` is
    recorded in run.json, so a resume dispatches in the same order."""
    rng = random.Random(seed)
    ordered: list[Case] = []
    for suite in dict.fromkeys(case.suite for case in cases):
        group = [case for case in cases if case.suite == suite]
        rng.shuffle(group)
        ordered += group
    return ordered


def run_cases(store: RunStore, suites: Sequence[Suite], quick: bool, stream=None,
              execution: Execution = Execution(), planner=None) -> RunResult:
    """Run every case of ``suites`` not yet in ``store``, then the extra cases run.json plans; with a
    ``planner`` (:class:`bench.execute.settle.SeedPlanner`, ``--budget``), keep adding seeds where
    headline comparisons are open, as slots free up, until the planner has nothing left. Ctrl-C (or
    SIGTERM, which the CLI turns into it) at any point, TensorFlow's import included, returns with
    ``interrupted=True`` and the run marked so in run.json."""
    driver = _Driver(store, stream or sys.stderr, planner)  # stderr looked up per call: tests swap it
    info = store.read_info()
    cases = interleave([case for suite in suites for case in expand(suite, quick)], info.get("order_seed", 0))
    cases += interleave(_extra_cases(info), info.get("order_seed", 0))
    try:
        driver.run(cases, len(suites), execution)
        while planner is not None:  # seeds planned for a backend whose workers had already stopped, or
            # timed across backends (under Ray those run in a serial pass of their own, here)
            more = [case for case in planner.more() if case.case_id not in store.finished_case_ids()]
            if not more:
                break
            driver.run(more, len(suites), execution)
    except KeyboardInterrupt:
        return driver.finish("interrupted")
    except NormbenchError as exc:  # the results disk refused a write; the workers could not start
        return driver.finish("interrupted", str(exc))
    return driver.finish("complete")


def plan_extra_cases(store: RunStore, cases: Sequence[Case]) -> int:
    """Add ``cases`` to run.json's ``extra_cases`` (kept across resumes); returns how many are new."""
    planned = store.read_info().get("extra_cases") or []
    known = {c.get("case_id") for c in planned if isinstance(c, dict)}
    new = [case.to_dict() for case in cases if case.case_id not in known]
    if new:
        store.update_info(extra_cases=[*planned, *new], state="running")
    return len(new)


def _extra_cases(info: dict) -> list[Case]:
    extra = info.get("extra_cases") or []
    try:
        return [Case.from_dict(c) for c in extra]
    except (TypeError, KeyError, AttributeError) as exc:
        raise NormbenchError(f"run.json: extra_cases holds something that is not a case ({exc})") from None


class _Driver:
    """The state of one ``run_cases`` call: its executor, progress and counts."""

    def __init__(self, store: RunStore, stream, planner=None):
        self.store = store
        self.planner = planner
        self.stream = stream
        self.counts: Counter = Counter()
        self.executor = None
        self.progress: Progress | None = None
        self.commit_info = {**store.read_info()["commit"], "project": "normbench"}

    def run(self, cases: list[Case], n_suites: int, execution: Execution) -> None:
        done = self.store.finished_case_ids()
        todo = [case for case in cases if case.case_id not in done]
        _ask_for_replica_devices(todo)
        self.say(f"run {self.store.run_id}: {len(cases)} cases in {n_suites} suite(s)"
                 + (f", {len(cases) - len(todo)} already recorded" if len(todo) < len(cases) else ""))
        names = [name for name in catalog.BACKENDS if any(backend_of(case) == name for case in todo)]
        for name in list(names):
            missing = backends.missing_reason(name)
            if missing:
                self.skip([case for case in todo if backend_of(case) == name], missing, f"{name} cases")
                names.remove(name)
        # Serially, one worker per backend side by side keeps the shuffled order across backends;
        # Ray's slots are started per backend, one backend after another, the backend with the most
        # cases last: it takes a budgeted run's added seeds as its slots free up. Cases timed across
        # backends need a worker per backend side by side: under Ray they run first, on serial
        # workers on this machine (bench.execute.across_backends).
        across = [case for case in todo if spans_backends(case) and backend_of(case) in names]
        if execution.uses_ray and len({backend_of(case) for case in across}) > 1:
            ids = {case.case_id for case in across}
            self.run_on([name for name in names if any(backend_of(case) == name for case in across)], across,
                        dataclasses.replace(execution, workers=1, address=None), feed=False)
            todo = [case for case in todo if case.case_id not in ids]
            names = [name for name in names if any(backend_of(case) == name for case in todo)]
        count = {name: sum(backend_of(case) == name for case in todo) for name in names}
        groups = [[name] for name in sorted(names, key=count.get)] if execution.uses_ray else [names] if names else []
        for i, group in enumerate(groups):
            # Only the last backend's workers take a budgeted run's added seeds as they go: the
            # other backends' planned cases must not wait behind them (run_cases runs those after).
            self.run_on(group, [case for case in todo if backend_of(case) in group], execution,
                        feed=i == len(groups) - 1)

    def run_on(self, names: list[str], todo: list[Case], execution: Execution, feed: bool = True) -> None:
        """Start workers for the Keras backends ``names`` (KERAS_BACKEND is fixed per process) and run ``todo``."""
        log_path = None if execution.verbose else str(self.store.path / "worker.log")
        where = f" (framework output: {log_path})" if log_path else ""
        try:
            self.executor = _executor(execution, self.store.run_id, self.stream, names, log_path)
        except WorkerStartFailed as exc:  # no backend's framework could load here
            self.skip(todo, f"{exc}{where}", "cases")
            return
        info = self.store.read_info()
        for name, framework in self.executor.frameworks.items():
            info.setdefault("framework", framework)
            info.setdefault("frameworks", {})[name] = framework
        info.setdefault("executions", []).append({**self.executor.describe(), "backends": list(self.executor.frameworks)})
        self.store.write_info(info)

        for name, reason in self.executor.unavailable.items():
            self.skip([case for case in todo if backend_of(case) == name], f"{reason}{where}", f"{name} cases")
        todo = [case for case in todo if backend_of(case) not in self.executor.unavailable]
        for name, reason in self.executor.gpu_reasons.items():
            # Record what cannot run first, in one line, so the progress bar's ETA covers real work.
            unrunnable = [case for case in todo if case.device == "gpu" and backend_of(case) == name]
            if reason:
                self.skip(unrunnable, reason, "GPU cases" if len(names) == 1 else f"{name} GPU cases")
                todo = [case for case in todo if case not in unrunnable]

        self.progress = Progress(len(todo), self.stream)
        more = None
        if self.planner is not None and feed:
            handed = {case.case_id for case in todo}  # queued or in flight: never handed out twice

            def more():
                # under Ray, cases timed across backends wait for a serial pass of their own (below)
                cases = [case for case in self.planner.more(names) if case.case_id not in handed and
                         (case.device != "gpu" or not self.executor.gpu_reasons.get(backend_of(case))) and
                         not (execution.uses_ray and spans_backends(case))]
                handed.update(case.case_id for case in cases)
                self.progress.grow(len(cases), "more seeds where headline comparisons are open")
                return cases
        self.executor.execute(todo, self.case_finished, more)
        self.progress.close()
        self.progress = None
        self.executor.stop()
        self.executor = None

    def skip(self, cases: list[Case], reason: str, what: str) -> None:
        for case in cases:
            self.save(records.skipped(case, self.store.run_id, reason), [])
        if cases:
            self.say(f"{len(cases)} {what} recorded as skipped: {reason}")

    def case_finished(self, record: dict, benchmarks: list, node: str) -> None:
        self.save(record, benchmarks)
        self.progress.advance(record["case_id"], record["status"], record.get("case_seconds") or 0.0,
                              node, self.executor.running_by_node())

    def save(self, record: dict, benchmarks: list) -> None:
        record["finished_at"] = records.now()
        self.store.save_case(record, benchmarks)
        self.counts[record["status"]] += 1

    def say(self, text: str) -> None:
        print(f"normbench: {text}", file=self.stream, flush=True)

    def finish(self, state: str, error: str | None = None) -> RunResult:
        if self.progress is not None:
            self.progress.close()
        if self.executor is not None:
            self.executor.stop()
            self.executor = None
        try:
            self.store.merge_benchmarks(_machine_info(), self.commit_info)
        except OSError as exc:
            error = error or f"cannot write {self.store.path / 'benchmarks.json'} ({exc.strerror or exc})"
            state = "interrupted"
        if not self.store.finish(state):
            error = (error or "") + f" (run.json could not be marked {state})"
        return RunResult(self.store, self.counts, interrupted=state != "complete", error=error)


def _executor(execution: Execution, run_id: str, stream, keras_backends: list[str], log_path: str | None):
    """Start the executor ``execution`` names, its workers on ``keras_backends``; Ray is imported
    only when it is asked for (its workers' output goes to Ray's own logs)."""
    if execution.uses_ray:
        from bench.execute.ray_executor import RayExecutor

        return RayExecutor(run_id, execution, stream, keras_backends)
    from bench.execute.serial import SerialExecutor

    return SerialExecutor(run_id, execution.threads, keras_backends, log_path)


def _ask_for_replica_devices(cases: list[Case]) -> None:
    """Workers started from now on make as many logical CPU devices as the most replicas a CPU case
    here asks for (none when no case does: they cost a little tracing time)."""
    most = max((case.settings.get("replicas", 1) for case in cases
                if case.workload == "model" and case.device == "cpu"), default=1)
    if most > 1:
        os.environ[backends.REPLICA_DEVICES] = str(most)
    else:
        os.environ.pop(backends.REPLICA_DEVICES, None)


def _machine_info() -> dict:
    """pytest-benchmark's machine description, for benchmarks.json."""
    try:
        from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

        return pytest_benchmark_generate_machine_info()
    except Exception as exc:  # py-cpuinfo can fail on exotic machines; timing still counts
        return {"error": f"machine info unavailable: {exc}"}
