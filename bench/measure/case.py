"""Run one case end to end: build, train (and fine-tune), evaluate both ways, then time train and
predict steps."""

from __future__ import annotations

import time
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from bench import faults, metrics
from bench.data import Dataset
from bench.measure import compat
from bench.measure.fine_tuning import prepare_batch_norm
from bench.measure.implementations import compare_with_keras
from bench.measure.kernel_checks import record_checks
from bench.measure.models import build_model
from bench.measure.precise_bn import bessel_corrected, precise_bn_accuracy
from bench.measure.statistics_monitor import StatisticsMonitor
from bench.measure.throughput import time_calls
from bench.measure.training import Trainer, make_optimizer


def measure_case(case, dataset: Dataset, record: dict, benchmarks: list) -> dict:
    """Fill ``record`` with the case's measurements; append pytest-benchmark dicts to ``benchmarks``.

    Order matters: inference-mode accuracy first, training-mode accuracy second (it moves BN's
    moving averages), timing last (it keeps training the model).
    """
    time_steps = train_case(case, dataset, record)
    time_steps(benchmarks)
    return record


def train_case(case, dataset: Dataset, record: dict) -> Callable[[list], None]:
    """The quality phase: train, evaluate and fill the record's accuracy and NaN fields.

    Returns the timing phase, ``time_steps(benchmarks)``, which times train and predict steps on the
    trained model. The two are separate so a parallel runner can train cases side by side and give
    each timing phase its node to itself (bench.execute); the serial worker calls them back to back.
    """
    started = time.perf_counter()
    training = case.training
    if case.normalizer_options.get("implementation", "keras") != "keras":
        record.update(compare_with_keras(case.kind, case.normalizer_options, case.seed))
    record_checks(record, case.kind, case.normalizer_options, training["precision"])
    keras.utils.set_random_seed(case.seed)
    compat.set_dtype_policy(training["precision"])
    try:
        with tf.device(_device(case)):
            model = build_model(case.model, case.model_options, dataset.input_shape, dataset.classes,
                                case.kind, case.normalizer_options)
            trainer = Trainer(model, make_optimizer(training, record["learning_rate"]))
            monitor = StatisticsMonitor(model, dataset.x_train) if training["monitor_statistics"] else None
            batch = training["batch_size"]
            losses = trainer.fit(dataset.x_train, dataset.y_train, batch, training["epochs"], case.seed,
                                 after_epoch=monitor)
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

    def time_steps(benchmarks: list) -> None:
        timing_started = time.perf_counter()
        compat.set_dtype_policy(training["precision"])
        try:
            with tf.device(_device(case)):
                _time_steps(case, trainer, dataset, batch, record, benchmarks)
        finally:
            compat.set_dtype_policy("float32")
        record["case_seconds"] += time.perf_counter() - timing_started

    return time_steps


def _device(case) -> str:
    return "/GPU:0" if case.device == "gpu" else "/CPU:0"


def _evaluate(trainer: Trainer, dataset: Dataset, record: dict, case) -> None:
    """Inference mode, then PreciseBN (restores the moving averages), then training mode last: it
    moves the moving averages."""
    eval_batch = record["eval_batch_size"]
    record["test_accuracy"] = metrics.accuracy(trainer.predict(dataset.x_test, eval_batch, False),
                                               dataset.y_test)
    samples = case.training["precise_bn_samples"]
    if samples:
        accuracy, used = precise_bn_accuracy(trainer, dataset.x_train, (dataset.x_test, dataset.y_test), samples,
                                             case.training["batch_size"], eval_batch, case.seed)
        if accuracy is not None:
            record.update(test_accuracy_precise_bn=accuracy, precise_bn_samples_used=used,
                          precise_bn_bessel=bessel_corrected())
    record["test_accuracy_training_mode"] = metrics.accuracy(
        trainer.predict(dataset.x_test, eval_batch, True), dataset.y_test)


def _fine_tune(case, trainer: Trainer, source: Dataset, record: dict) -> tuple[Trainer, Dataset, np.ndarray]:
    """Fine-tune the trained model on the shifted data with BN treated as ``fine_tune_bn`` says;
    returns the new trainer, the shifted dataset (which the case is then tested and timed on) and
    the fine-tuning losses. Accuracy on the original data is recorded before and after."""
    training = case.training
    target = source.shifted(training["shift_gain"], training["shift_offset"])
    eval_batch = record["eval_batch_size"]

    def inference_accuracy(tuner: Trainer, data: Dataset) -> float:
        return metrics.accuracy(tuner.predict(data.x_test, eval_batch, False), data.y_test)

    record["source_accuracy_before"] = inference_accuracy(trainer, source)
    record["target_accuracy_before"] = inference_accuracy(trainer, target)
    variables = prepare_batch_norm(trainer.model, training["fine_tune_bn"])
    tuner = Trainer(trainer.model, make_optimizer(training, record["learning_rate"]), variables)
    losses = tuner.fit(target.x_train, target.y_train, training["batch_size"], training["fine_tune_epochs"],
                       case.seed + 1)
    record["source_accuracy_after"] = inference_accuracy(tuner, source)
    return tuner, target, losses


def _time_steps(case, trainer: Trainer, dataset: Dataset, batch: int, record: dict, benchmarks: list):
    x = tf.constant(dataset.x_train[:batch])
    y = tf.constant(dataset.y_train[:batch])
    steps = {
        "train": lambda: trainer.train_step(x, y).numpy(),
        "infer": lambda: trainer.predict_step(x, False).numpy(),
    }
    if faults.step_repeats(case.case_id) == 2:  # a planted slowdown (tests of compare), never in real runs
        steps = {phase: (lambda fn: lambda: (fn(), fn())[1])(fn) for phase, fn in steps.items()}
    for phase, fn in steps.items():
        timing = time_calls(
            fn, name=f"{phase}[{case.case_id}]", fullname=f"normbench::{case.suite}::{phase}[{case.case_id}]",
            group=f"{case.suite}:{phase}:{case.device}", extra_info={"case_id": case.case_id, "phase": phase},
            min_rounds=case.timing["min_rounds"], max_time=case.timing["max_time"],
            warmup_rounds=case.timing["warmup_rounds"], round_time=case.timing["round_time"],
        )
        record[f"{phase}_step_seconds"] = timing.summary()
        record[f"{phase}_samples_per_sec"] = metrics.samples_per_second(batch, timing.median)
        benchmarks.append(timing.benchmark)


def release_memory() -> None:
    """Drop the finished case's graphs and layers.

    ``free_memory=False`` skips a full ``gc.collect()`` per case: measured over 300 tiny cases it
    cut the engine's overhead from 0.36 to 0.11 s per case with peak RSS still flat, because the
    worker process is replaced every ``MAX_CASES_PER_WORKER`` cases anyway (see bench.execute.serial).
    """
    compat.clear_session()
