"""Run cases one by one into a run directory; every finished case is on disk before the next starts.

A case that raises becomes a ``failed`` record and the run goes on. Ctrl-C stops after saving what is
finished; ``normbench run --resume RUN`` then runs only the cases not yet recorded.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from bench import provenance, records
from bench.progress import Progress
from bench.store import RunStore
from bench.suite import Case, Suite, expand


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
    stream = stream or sys.stderr  # looked up per call: tests and callers may swap sys.stderr
    counts: Counter = Counter()
    progress: list[Progress] = []
    try:
        _run(store, suites, quick, stream, counts, progress)
    except KeyboardInterrupt:
        for bar in progress:
            bar.close()
        store.update_info(state="interrupted", finished_at=records.now())
        return RunResult(store, counts, interrupted=True)
    store.update_info(state="complete", finished_at=records.now())
    return RunResult(store, counts)


def _run(store: RunStore, suites: Sequence[Suite], quick: bool, stream, counts: Counter,
         progress_bars: list) -> None:
    cases = [case for suite in suites for case in expand(suite, quick)]
    done = store.finished_case_ids()
    todo = [case for case in cases if case.case_id not in done]
    print(f"normbench: run {store.run_id}: {len(cases)} cases in {len(suites)} suite(s)"
          + (f", {len(cases) - len(todo)} already recorded" if len(todo) < len(cases) else ""),
          file=stream, flush=True)
    if not todo:
        return

    from bench.measure import case as measure  # TensorFlow loads here, not at import time
    from bench.measure.environment import framework
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    info = store.read_info()
    info.setdefault("framework", framework())
    store.write_info(info)
    machine_info = _machine_info(pytest_benchmark_generate_machine_info)
    commit_info = {"id": info["commit"]["id"], "dirty": info["commit"]["dirty"], "project": "normbench"}
    gpu_reason = measure.gpu_unavailable_reason()
    if gpu_reason:
        # Record what cannot run first, in one line, so the progress bar's ETA covers real work.
        unrunnable = [case for case in todo if case.device == "gpu"]
        for case in unrunnable:
            record = records.skipped(case, store.run_id, gpu_reason)
            store.append(record)
            counts["skipped"] += 1
        if unrunnable:
            print(f"normbench: {len(unrunnable)} GPU cases recorded as skipped: {gpu_reason}",
                  file=stream, flush=True)
        todo = [case for case in todo if case.device != "gpu"]
    datasets: dict[str, object] = {}

    progress = Progress(len(todo), stream)
    progress_bars.append(progress)
    for case in todo:
        started = time.perf_counter()
        benchmarks: list[dict] = []
        record = _run_one(case, store.run_id, datasets, benchmarks, measure)
        record["finished_at"] = records.now()
        store.append(record)
        store.add_benchmarks(benchmarks, machine_info, commit_info)
        counts[record["status"]] += 1
        progress.advance(case.case_id, record["status"], time.perf_counter() - started)
    progress.close()


def _run_one(case: Case, run_id: str, datasets: dict, benchmarks: list, measure) -> dict:
    record = records.new_record(case, run_id)
    try:
        dataset = _dataset(case, datasets)
        measure.measure_case(case, dataset, record, benchmarks)
    except Exception as exc:  # a failure is a result: record it and go on
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        benchmarks.clear()
    finally:
        measure.release_memory()
        gc.collect()
    return record


def _dataset(case: Case, cache: dict):
    from bench.data import load_dataset

    key = json.dumps([case.dataset, case.dataset_options], sort_keys=True)
    if key not in cache:
        cache[key] = load_dataset(case.dataset, case.dataset_options)
    return cache[key]


def _machine_info(generate) -> dict:
    try:
        return generate()
    except Exception as exc:  # py-cpuinfo can fail on exotic machines; timing still counts
        return {"error": f"machine info unavailable: {exc}"}
