"""What a worker process does with a case, whichever backend started it (serial pipe or Ray actor).

A case runs in two phases: **quality** (train, evaluate, NaN incidence, statistics) and **timing**
(train/predict step or layer timing, the copy kernel). The serial worker runs them back to back;
the Ray backend runs quality side by side with other cases and gives each timing phase its node
alone. A layer case is all timing. Any exception becomes a ``failed`` record: a failure is a result.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any, Callable

from bench import faults, records
from bench.data import load_dataset
from bench.errors import ImplementationUnavailable
from bench.suite import Case


def start_worker(threads: int | None) -> dict[str, Any]:
    """Import TensorFlow and set it up for this worker: ``threads`` intra- and inter-op threads
    (None: TensorFlow's default, every core), and GPU memory growth, so a worker on a shared node
    takes GPU memory as it needs it instead of all of it. Returns what the driver records."""
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    from bench.measure.environment import framework, gpu_unavailable_reason

    return {"framework": framework(), "gpu_reason": gpu_unavailable_reason(), "pid": os.getpid(),
            "host": socket.gethostname(), "threads": threads or os.cpu_count()}


class CaseRun:
    """One case inside a worker. ``quality()`` then ``timing()``; each returns ``(record, benchmarks)``
    when the case is finished, ``quality()`` returns None when its timing phase is still to come."""

    def __init__(self, case: Case, run_id: str, datasets: dict, placement: dict):
        self.case = case
        self.record = records.new_record(case, run_id)
        self.record.update(placement)
        self.benchmarks: list[dict] = []
        self._datasets = datasets
        self._time: Callable[[list], None] | None = None

    def quality(self) -> tuple[dict, list] | None:
        case = self.case
        if not self._guard(lambda: faults.inject(case.case_id)):
            return self._finish()
        if case.suite_kind == "layer":
            from bench.measure.layer_case import measure_layer_case  # TensorFlow is loaded already

            self._time = lambda benchmarks: measure_layer_case(case, self.record, benchmarks)
            return None
        from bench.measure.case import train_case

        def train() -> None:
            self._time = train_case(case, _dataset(case, self._datasets), self.record)

        if not self._guard(train):
            return self._finish()
        return None

    def timing(self) -> tuple[dict, list]:
        assert self._time is not None, "timing() before a successful quality()"
        from bench.measure.reference import reference_seconds

        before = reference_seconds()  # the machine's speed right around the timing
        self._guard(lambda: self._time(self.benchmarks))
        self.record["reference_seconds"] = (before + reference_seconds()) / 2
        return self._finish()

    def run(self) -> tuple[dict, list]:
        """Both phases back to back (the serial worker: it is alone on its machine anyway)."""
        return self.quality() or self.timing()

    def _guard(self, step: Callable[[], None]) -> bool:
        try:
            step()
            return True
        except ImplementationUnavailable as exc:
            self.record.update(status="skipped", error=str(exc))
        except Exception as exc:
            self.record.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        self.benchmarks.clear()
        return False

    def _finish(self) -> tuple[dict, list]:
        from bench.measure.case import release_memory

        release_memory()
        self.record["worker_peak_rss_mb"] = peak_rss_mb()
        return self.record, self.benchmarks


def run_case(case: Case, run_id: str, datasets: dict, benchmarks: list, placement: dict | None = None) -> dict:
    """Measure one case end to end in this process; ``benchmarks`` receives its timing entries."""
    record, timed = CaseRun(case, run_id, datasets, placement or {}).run()
    benchmarks.extend(timed)
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
