"""What a worker process does with a case, whichever executor started it (serial pipe or Ray actor).

A case runs in two phases: **quality** (train, evaluate, NaN incidence, statistics) and **timing**
(train/predict step or layer timing, the copy kernel). The serial worker runs them back to back;
the Ray executor runs quality side by side with other cases and gives each timing phase its node
alone. A layer case is all timing. Any exception becomes a ``failed`` record: a failure is a result.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any, Callable

from bench.core import faults
from bench.results import records
from bench.data import load_dataset
from bench.core.errors import ImplementationUnavailable
from bench.suite import Case


UNTIMED_REASON = "an added seed for accuracy comparisons only (normbench run --budget)"


def start_worker(threads: int | None, backend: str = "tensorflow") -> dict[str, Any]:
    """Load Keras on ``backend`` in this worker (KERAS_BACKEND is read once, at Keras's import) and
    set the framework up: ``threads`` CPU threads where it has a setting (None: its default, every
    core), GPU memory taken as needed. Returns what the driver records."""
    from bench.measure import backends

    backends.prepare_environment(backend)
    module = backends.load(backend)
    if module.NAME != backend or _keras_backend() != backend:
        raise RuntimeError(f"this worker imported Keras on {_keras_backend()!r} before it could choose {backend!r}")
    module.configure(threads)
    return {"framework": module.framework(), "gpu_reason": module.gpu_unavailable_reason(), "pid": os.getpid(),
            "host": socket.gethostname(), "threads": threads or os.cpu_count(), "backend": backend,
            "backend_version": module.VERSION}


def _keras_backend() -> str:
    import keras

    from bench.measure import compat

    return keras.backend.backend() if compat.KERAS_3 else "tensorflow"


def quiet_framework_output(log_path: str | None) -> None:
    """Send this worker's own stdout and stderr (TensorFlow's CUDA probing, XLA notices) to
    ``log_path`` instead of the user's terminal; the driver prints normbench's messages."""
    if not log_path:
        return
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


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
        if case.workload == "layer":
            from bench.measure.layer_case import measure_layer_case  # TensorFlow is loaded already

            self._time = lambda benchmarks: measure_layer_case(case, self.record, benchmarks)
            return None
        from bench.measure.case import train_case

        def train() -> None:
            self._time = train_case(case, _dataset(case, self._datasets), self.record)

        if not self._guard(train):
            return self._finish()
        if not case.timed:
            self.record["untimed"] = UNTIMED_REASON
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
        from bench.measure.case import StepTiming, release_memory

        if isinstance(self._time, StepTiming) and self.record["status"] != "failed":
            self._time.done()
        release_memory()
        self.record["worker_peak_rss_mb"] = peak_rss_mb()
        return self.record, self.benchmarks


def time_together(runs: list[CaseRun], timing_group: str) -> list[tuple[dict, list]]:
    """Finish trained cases of one setting, their steps timed interleaved round by round
    (bench.measure.case.time_cases) so their speeds are compared round against round. Should the
    group's timing fail, each case is timed again alone: the one that fails then fails by itself."""
    from bench.measure.case import StepTiming, time_cases
    from bench.measure.reference import reference_seconds

    grouped = [run for run in runs if isinstance(run._time, StepTiming)]
    if len(grouped) < 2:
        return [run.timing() for run in runs]
    before = reference_seconds()
    try:
        time_cases([run._time for run in grouped], [run.benchmarks for run in grouped], timing_group)
    except Exception:  # noqa: BLE001 - retried one by one below, where each failure is recorded
        return timed_alone(runs)
    after = reference_seconds()
    finished = []
    for run in runs:
        if run in grouped:
            run.record["reference_seconds"] = (before + after) / 2
            finished.append(run._finish())
        else:
            finished.append(run.timing())
    return finished


def timed_alone(runs: list[CaseRun]) -> list[tuple[dict, list]]:
    """Trained cases whose group timing failed, each timed again by itself (what a group timing left
    behind is dropped first), so a case that fails its timing fails alone."""
    for run in runs:
        run.benchmarks.clear()
        run.record.pop("timing_group", None)
    return [run.timing() for run in runs]


class HeldGroup:
    """This backend's share of a timing group that spans Keras backends: its cases trained here and
    held while the driver has every backend's worker time its share in turn, round by round
    (bench.execute.across_backends). The methods are the steps the driver asks for, by name."""

    STEPS = ("start", "calibrate", "run_round", "end_phase", "finish", "alone")

    def __init__(self, cases: list[Case], run_id: str, datasets: dict, placement: dict):
        self.finished: list[tuple[dict, list]] = []  # failed or skipped while training: nothing to time
        self.held: list[CaseRun] = []
        for case in cases:
            run = CaseRun(case, run_id, datasets, placement)
            result = run.quality()
            if result is None:
                self.held.append(run)
            else:
                self.finished.append(result)
        self._timing = None
        self._before = 0.0

    def start(self, timing_group: str) -> int:
        """The phases to time (0 when no held case has steps to time)."""
        from bench.measure.case import GroupTiming, StepTiming
        from bench.measure.reference import reference_seconds

        stepped = [run for run in self.held if isinstance(run._time, StepTiming)]
        if not stepped:
            return 0
        self._before = reference_seconds()
        self._timing = GroupTiming([run._time for run in stepped], [run.benchmarks for run in stepped], timing_group)
        return self._timing.phases

    def calibrate(self, phase: int) -> tuple[int, float]:
        return self._timing.calibrate(phase)

    def run_round(self, r: int) -> None:
        self._timing.run_round(r)

    def end_phase(self) -> None:
        self._timing.end_phase()

    def finish(self) -> list[tuple[dict, list]]:
        """The held cases' results, timed together (and any held case without steps, alone)."""
        from bench.measure.reference import reference_seconds

        results = []
        if self._timing is not None:
            self._timing.finish()
            after = reference_seconds()
        for run in self.held:
            if self._timing is not None and run._time in self._timing.cases:
                run.record["reference_seconds"] = (self._before + after) / 2
                results.append(run._finish())
            else:
                results.append(run.timing())
        return results

    def alone(self) -> list[tuple[dict, list]]:
        """The held cases timed one by one: the driver's fallback when the group's timing failed."""
        return timed_alone(self.held)


def run_group(cases: list[Case], timing_group: str, run_id: str, datasets: dict,
              placement: dict) -> list[tuple[dict, list]]:
    """Train each case, then time the trained ones together (:func:`time_together`); one
    ``(record, benchmarks)`` per case, in the order given."""
    runs = [CaseRun(case, run_id, datasets, placement) for case in cases]
    done = {id(run): run.quality() for run in runs}
    pending = [run for run in runs if done[id(run)] is None]
    timed = dict(zip(map(id, pending), time_together(pending, timing_group))) if pending else {}
    return [done[id(run)] or timed[id(run)] for run in runs]


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
