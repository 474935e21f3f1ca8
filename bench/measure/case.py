"""Run one case end to end: build, train (and fine-tune), evaluate both ways, then time train and
predict steps."""

from __future__ import annotations

import contextlib
import time
from typing import Callable

import keras
import numpy as np

from bench.core import faults, metrics
from bench.data import Dataset
from bench.core.errors import ImplementationUnavailable
from bench.measure import backends, compat, warm_models
from bench.measure.fine_tuning import prepare_batch_norm
from bench.measure.kernel_checks import record_checks
from bench.measure.models import build_model
from bench.measure.saved_model import replaced_layers
from bench.measure.precise_bn import bessel_corrected, precise_bn_accuracy
from bench.measure.quality_target import QualityTarget, time_to_target
from bench.measure.statistics_monitor import StatisticsMonitor
from bench.measure.optimizer import make_optimizer
from bench.measure.throughput import Interleaved, Member, rounds_for, time_calls


def measure_case(case, dataset: Dataset, record: dict, benchmarks: list) -> dict:
    """Fill ``record`` with the case's measurements; append pytest-benchmark dicts to ``benchmarks``.

    Order matters: inference-mode accuracy first, training-mode accuracy second (it moves BN's
    moving averages), timing last (it keeps training the model).
    """
    time_steps = train_case(case, dataset, record)
    time_steps(benchmarks)
    return record


def train_case(case, dataset: Dataset, record: dict) -> "StepTiming":
    """The quality phase: train, evaluate and fill the record's accuracy and NaN fields.

    Returns the timing phase, ``time_steps(benchmarks)``, which times train and predict steps on the
    trained model. The two are separate so a parallel runner can train cases side by side and give
    each timing phase its node to itself (bench.execute); the serial worker calls them back to back.
    """
    started = time.perf_counter()
    training = case.settings
    backend = backends.active()
    reason = backends.unsupported(case, backend.NAME)
    if reason:
        raise ImplementationUnavailable(reason)
    record.update(backend_version=backend.VERSION, step_compiler=backend.STEP_COMPILER)
    if case.normalizer_options.get("implementation", "keras") != "keras":
        from bench.measure.implementations import compare_with_keras  # TensorFlow code: that backend only

        record.update(compare_with_keras(case.normalizer_kind, case.normalizer_options, case.seed))
    record_checks(record, case.normalizer_kind, case.normalizer_options, training["precision"])
    keras.utils.set_random_seed(case.seed)
    compat.set_dtype_policy(training["precision"])
    try:
        with _placement(backend, case.device, training.get("replicas", 1)) as make_trainer:
            model = build_model(case.model, case.model_options, dataset.input_shape, dataset.classes,
                                case.normalizer_kind, case.normalizer_options)
            record["replaced_layers"] = replaced_layers(model)
            trainer, record["reused_steps"] = warm_models.trainer_for(
                case, model, make_optimizer(training, record["learning_rate"]), make_trainer)
            model = trainer.model
            monitor = StatisticsMonitor(model, dataset.x_train) if training["monitor_statistics"] else None
            batch = training["batch_size"]
            target = _quality_target(trainer, dataset, training, record)
            losses = trainer.fit(dataset.x_train, dataset.y_train, batch, training["epochs"], case.seed,
                                 after_epoch=_each_epoch(monitor, target))
            if target is not None:
                record.update(target.fields())
            if training["fine_tune_epochs"]:
                trainer, dataset, tuning_losses = _fine_tune(case, trainer, dataset, record)
                losses = np.concatenate([losses, tuning_losses])
            record["train_seconds"] = time.perf_counter() - started
            _evaluate(trainer, dataset, record, case)
            record.update(
                steps=int(losses.size), nan_rate=metrics.nan_rate(losses),
                first_nan_step=metrics.first_nonfinite_step(losses), final_loss=metrics.final_loss(losses),
                weights_finite=trainer.weights_finite(),
                bn_statistics=monitor.history if monitor is not None else None,
            )
            record["status"] = "ok" if record["nan_rate"] == 0 and record["weights_finite"] else "nan"
    finally:
        compat.set_dtype_policy("float32")
    record["case_seconds"] = time.perf_counter() - started
    return StepTiming(case, trainer, dataset, batch, record, backend)


class StepTiming:
    """The timing phase of a trained case: ``timing(benchmarks)`` times its train and predict steps
    alone; :func:`time_cases` times several cases' steps interleaved (bench.execute.in_worker)."""

    def __init__(self, case, trainer, dataset: Dataset, batch: int, record: dict, backend):
        self.case, self.record, self.batch, self._backend = case, record, batch, backend
        self._trainer, self._dataset = trainer, dataset

    def __call__(self, benchmarks: list) -> None:
        time_cases([self], [benchmarks])

    def done(self) -> None:
        """The case is finished: its trainer may serve the next case of its configuration."""
        warm_models.keep(self.case, self._trainer)

    @contextlib.contextmanager
    def context(self):
        """The case's dtype policy and device; a replicated trainer's step runs on its own replicas."""
        compat.set_dtype_policy(self.case.settings["precision"])
        try:
            single = self.case.settings.get("replicas", 1) == 1
            with self._backend.device(self.case.device) if single else contextlib.nullcontext():
                yield
        finally:
            compat.set_dtype_policy("float32")

    def members(self) -> list[Member]:
        """One timed call per phase (train, infer), named as pytest-benchmark entries."""
        case, batch = self.case, self.batch
        with self.context():
            steps = self._trainer.step_functions(self._dataset.x_train[:batch], self._dataset.y_train[:batch])
        if faults.step_repeats(case.case_id) == 2:  # a planted slowdown (tests of compare), never in real runs
            steps = {phase: (lambda fn: lambda: (fn(), fn())[1])(fn) for phase, fn in steps.items()}
        return [Member(fn, name=f"{phase}[{case.case_id}]", fullname=f"normbench::{case.suite}::{phase}[{case.case_id}]",
                       group=f"{case.suite}:{phase}:{case.device}", extra_info={"case_id": case.case_id, "phase": phase},
                       context=self.context) for phase, fn in steps.items()]

    def timed(self, member: Member, timing, benchmarks: list) -> None:
        """Record one phase's timing in the case's record and its pytest-benchmark entry."""
        phase = member.extra_info["phase"]
        self.record[f"{phase}_step_seconds"] = timing.summary()
        self.record[f"{phase}_samples_per_sec"] = metrics.samples_per_second(self.batch, timing.median)
        benchmarks.append(timing.benchmark)

    def finish(self, seconds: float) -> None:
        """Fields that need the timings; ``seconds``: this case's share of the timing's wall time."""
        self.record["time_to_target_seconds"] = time_to_target(self.record)
        self.record["case_seconds"] += seconds


def time_cases(cases: list[StepTiming], benchmarks: list[list], timing_group: str | None = None) -> None:
    """Time trained cases' steps: one case alone, as pytest-benchmark would; several (the candidates of
    one setting, ``timing_group`` naming them) phase by phase, their rounds interleaved
    (:class:`GroupTiming`), so the analysis can pair round r of each."""
    if len(cases) > 1:
        timing = GroupTiming(cases, benchmarks, timing_group)
        for phase in range(timing.phases):
            members, seconds = timing.calibrate(phase)
            for r in range(rounds_for(members, seconds, timing.min_rounds, timing.max_time)):
                timing.run_round(r)
            timing.end_phase()
        timing.finish()
        return
    started = time.perf_counter()
    (case,) = cases
    for member in case.members():
        with member.context():
            result = time_calls(member.fn, name=member.name, fullname=member.fullname, group=member.group,
                                extra_info=member.extra_info, **_options(case.case.timing))
        case.timed(member, result, benchmarks[0])
    case.finish(time.perf_counter() - started)


class GroupTiming:
    """Trained cases of one timing group, timed phase by phase (train, then infer) and round by round:
    ``calibrate(phase)``, then ``run_round(r)`` as often as the group needs, ``end_phase()``; at last
    ``finish()``. :func:`time_cases` drives it within one worker; a group whose cases span Keras
    backends has one per backend's worker, and the driver alternates the workers round by round
    (bench.execute.across_backends), so every round of one backend is paired with the other's."""

    def __init__(self, cases: list[StepTiming], benchmarks: list[list], timing_group: str | None):
        self.started = time.perf_counter()
        self.cases, self.benchmarks, self.timing_group = cases, benchmarks, timing_group
        timing = cases[0].case.timing
        self.min_rounds, self.max_time = timing["min_rounds"], timing["max_time"]
        self.members = [case.members() for case in cases]
        self.phases = len(self.members[0])
        self._phase, self._session = 0, None

    def calibrate(self, phase: int) -> tuple[int, float]:
        """Warm up and calibrate ``phase``'s members; returns how many there are and the seconds one
        round of all of them takes."""
        self._phase = phase
        options = _options(self.cases[0].case.timing)
        self._session = Interleaved([of_case[phase] for of_case in self.members], timing_group=self.timing_group,
                                    **options)
        return len(self.cases), self._session.round_seconds

    def run_round(self, r: int) -> None:
        self._session.run_round(r)

    def end_phase(self) -> None:
        together = [of_case[self._phase] for of_case in self.members]
        for case, member, result, into in zip(self.cases, together, self._session.timings(), self.benchmarks):
            case.timed(member, result, into)

    def finish(self) -> None:
        for case in self.cases:
            case.record["timing_group"] = self.timing_group
            case.finish((time.perf_counter() - self.started) / len(self.cases))


def _options(timing: dict) -> dict:
    """pytest-benchmark's settings from a case's ``timing`` section."""
    return dict(min_rounds=timing["min_rounds"], max_time=timing["max_time"], warmup_rounds=timing["warmup_rounds"],
                round_time=timing["round_time"])


@contextlib.contextmanager
def _placement(backend, device: str, replicas: int):
    """Where the case's model lives: one device, or mirrored over ``replicas`` (TensorFlow only;
    ``backends.unsupported`` turns other backends away first). Yields the trainer class to use."""
    if replicas > 1:
        from bench.measure.distributed import replicated

        with replicated(device, replicas) as trainer:
            yield trainer
        return
    with backend.device(device):
        yield backend.Trainer


def _quality_target(trainer, dataset: Dataset, training: dict, record: dict) -> QualityTarget | None:
    """The held-out evaluations of a suite's ``quality_target`` (None without one)."""
    if not training.get("quality_target"):
        return None
    return QualityTarget(trainer, dataset.x_test, dataset.y_test, training["quality_target"], training["eval_every"],
                         training["epochs"], len(dataset.x_train) // training["batch_size"],
                         record["eval_batch_size"])


def _each_epoch(*callbacks) -> Callable[[int], None] | None:
    """One ``after_epoch`` callback calling each given one (None: there is none)."""
    present = [callback for callback in callbacks if callback is not None]
    if not present:
        return None

    def after_epoch(epoch: int) -> None:
        for callback in present:
            callback(epoch)

    return after_epoch


def _evaluate(trainer, dataset: Dataset, record: dict, case) -> None:
    """Inference mode, then PreciseBN (restores the moving averages), then training mode last: it
    moves the moving averages."""
    eval_batch = record["eval_batch_size"]
    record["chance_accuracy"] = metrics.chance_accuracy(dataset.y_test)
    record["test_accuracy"] = metrics.accuracy(trainer.predict(dataset.x_test, eval_batch, False),
                                               dataset.y_test)
    samples = case.settings["precise_bn_samples"]
    if samples:
        accuracy, used = precise_bn_accuracy(trainer, dataset.x_train, (dataset.x_test, dataset.y_test), samples,
                                             case.settings["batch_size"], eval_batch, case.seed)
        if accuracy is not None:
            record.update(test_accuracy_precise_bn=accuracy, precise_bn_samples_used=used,
                          precise_bn_bessel=bessel_corrected())
    record["test_accuracy_training_mode"] = metrics.accuracy(
        trainer.predict(dataset.x_test, eval_batch, True), dataset.y_test)


def _fine_tune(case, trainer, source: Dataset, record: dict) -> tuple[object, Dataset, np.ndarray]:
    """Fine-tune the trained model on the shifted data with BN treated as ``fine_tune_bn`` says;
    returns the new trainer, the shifted dataset (which the case is then tested and timed on) and
    the fine-tuning losses. Accuracy on the original data is recorded before and after."""
    training = case.settings
    target = source.shifted(training["shift_gain"], training["shift_offset"])
    eval_batch = record["eval_batch_size"]

    def inference_accuracy(tuner, data: Dataset) -> float:
        return metrics.accuracy(tuner.predict(data.x_test, eval_batch, False), data.y_test)

    record["source_accuracy_before"] = inference_accuracy(trainer, source)
    record["target_accuracy_before"] = inference_accuracy(trainer, target)
    variables = prepare_batch_norm(trainer.model, training["fine_tune_bn"])
    tuner = type(trainer)(trainer.model, make_optimizer(training, record["learning_rate"]), variables)
    losses = tuner.fit(target.x_train, target.y_train, training["batch_size"], training["fine_tune_epochs"],
                       case.seed + 1)
    record["source_accuracy_after"] = inference_accuracy(tuner, source)
    return tuner, target, losses


def release_memory() -> None:
    """Drop the finished case's graphs and layers.

    ``free_memory=False`` skips a full ``gc.collect()`` per case: measured over 300 tiny cases it
    cut the engine's overhead from 0.36 to 0.11 s per case with peak RSS still flat, because the
    worker process is replaced every ``MAX_CASES_PER_WORKER`` cases anyway (see bench.execute.serial).
    """
    compat.clear_session()
