"""Run cases one by one into a run directory; every finished case is on disk before the next starts.

Cases run in a worker process (:mod:`bench.worker`). A case that raises, crashes its worker or
times out becomes a ``failed`` record and the run goes on. Ctrl-C stops after saving what is
finished; ``normbench run --resume RUN`` then runs only the cases not yet recorded.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from bench import provenance, records
from bench.progress import Progress
from bench.store import RunStore
from bench.suite import Case, Suite, expand
from bench.worker import MAX_CASES_PER_WORKER, CaseAborted, Worker


@dataclass
class RunResult:
    store: RunStore
    counts: Counter
    interrupted: bool = False


def run_info(suites: Sequence[Suite], quick: bool) -> dict:
    """The run.json content known before TensorFlow loads; the suites' full documents are kept so a
    resume runs exactly what was started even if the files changed since."""
    from bench import __version__

    return {
        "schema_version": records.SCHEMA_VERSION, "normbench": __version__, "argv": provenance.argv(),
        "quick": quick, "started_at": records.now(), "finished_at": None, "state": "running",
        "machine": provenance.machine(), "commit": provenance.git_commit(),
        "suites": [{"name": s.name, "source": s.source, "sha256": s.sha256, "description": s.description,
                    "document": s.document} for s in suites],
    }


def run_cases(store: RunStore, suites: Sequence[Suite], quick: bool, stream=None) -> RunResult:
    """Run every case of ``suites`` not yet in ``store``. Ctrl-C at any point (TensorFlow's import
    included) returns with ``interrupted=True`` and the run marked so in run.json."""
    session = _Session(store, stream or sys.stderr)  # stderr looked up per call: tests swap it
    try:
        session.run([case for suite in suites for case in expand(suite, quick)], len(suites))
    except KeyboardInterrupt:
        session.stop()
        store.update_info(state="interrupted", finished_at=records.now())
        return RunResult(store, session.counts, interrupted=True)
    session.stop()
    store.update_info(state="complete", finished_at=records.now())
    return RunResult(store, session.counts)


class _Session:
    """The state of one ``run_cases`` call: its worker, progress bar and counts."""

    def __init__(self, store: RunStore, stream):
        self.store = store
        self.stream = stream
        self.counts: Counter = Counter()
        self.worker: Worker | None = None
        self.progress: Progress | None = None

    def run(self, cases: list[Case], n_suites: int) -> None:
        done = self.store.finished_case_ids()
        todo = [case for case in cases if case.case_id not in done]
        self.say(f"run {self.store.run_id}: {len(cases)} cases in {n_suites} suite(s)"
                 + (f", {len(cases) - len(todo)} already recorded" if len(todo) < len(cases) else ""))
        if not todo:
            return
        worker = self.fresh_worker()
        info = self.store.read_info()
        info.setdefault("framework", worker.info["framework"])
        self.store.write_info(info)
        machine_info = _machine_info()
        commit_info = {**info["commit"], "project": "normbench"}

        gpu_reason = worker.info["gpu_reason"]
        if gpu_reason:
            # Record what cannot run first, in one line, so the progress bar's ETA covers real work.
            unrunnable = [case for case in todo if case.device == "gpu"]
            for case in unrunnable:
                self.save(records.skipped(case, self.store.run_id, gpu_reason), [], machine_info, commit_info)
            if unrunnable:
                self.say(f"{len(unrunnable)} GPU cases recorded as skipped: {gpu_reason}")
            todo = [case for case in todo if case.device != "gpu"]

        self.progress = Progress(len(todo), self.stream)
        for case in todo:
            started = time.perf_counter()
            record, benchmarks = self.run_one(case)
            self.save(record, benchmarks, machine_info, commit_info)
            self.progress.advance(case.case_id, record["status"], time.perf_counter() - started)

    def run_one(self, case: Case) -> tuple[dict, list]:
        if self.worker is None or self.worker.cases_run >= MAX_CASES_PER_WORKER:
            self.fresh_worker()
        try:
            record, benchmarks = self.worker.run(case, case.timing["case_timeout"])
        except CaseAborted as exc:
            self.worker = None  # dead or killed; the next case starts a new one
            record = records.new_record(case, self.store.run_id)
            record.update(status="failed", error=str(exc))
            return record, []
        if record["status"] == "failed":
            # An exception may leave the worker unfit (a lowered memory limit, a wedged device):
            # the next case gets a fresh one.
            self.worker.close()
            self.worker = None
        return record, benchmarks

    def fresh_worker(self) -> Worker:
        if self.worker is not None:
            self.worker.close()
        self.worker = Worker(self.store.run_id)
        return self.worker

    def save(self, record: dict, benchmarks: list, machine_info: dict, commit_info: dict) -> None:
        record["finished_at"] = records.now()
        self.store.append(record)
        self.store.add_benchmarks(benchmarks, machine_info, commit_info)
        self.counts[record["status"]] += 1

    def say(self, text: str) -> None:
        print(f"normbench: {text}", file=self.stream, flush=True)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.close()
        if self.worker is not None:
            self.worker.kill()
            self.worker = None


def _machine_info() -> dict:
    """pytest-benchmark's machine description, for benchmarks.json."""
    try:
        from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

        return pytest_benchmark_generate_machine_info()
    except Exception as exc:  # py-cpuinfo can fail on exotic machines; timing still counts
        return {"error": f"machine info unavailable: {exc}"}
