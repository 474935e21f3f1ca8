"""The one result-record schema: every case, whatever happened to it, becomes one of these.

A record is a flat JSON object. ``FIELDS`` lists every key in order with what it means; the
README's field table and the report read it from here. Bump ``SCHEMA_VERSION`` when a field changes
meaning, and teach :func:`upgrade` to read the old version.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bench.metrics import effective_learning_rate

SCHEMA_VERSION = 1
STATUSES = ("ok", "nan", "failed", "skipped")

FIELDS: dict[str, str] = {
    "schema_version": "version of this record layout",
    "run_id": "the run directory's name",
    "suite": "suite name",
    "suite_kind": "model (train and evaluate a model) or layer (time one normalization layer alone)",
    "case_id": "suite/normalizer/axis=value,.../seed=N/device: unique within a run",
    "normalizer": "the normalizer's label in the suite",
    "kind": "the normalizer kind (batch, group, layer, none)",
    "implementation": "keras, tfa (tensorflow-addons) or reference; null where the kind has one only",
    "device": "cpu or gpu",
    "seed": "seed for weights and shuffling",
    "batch_size": "training batch size",
    "eval_batch_size": "test batch size (for training=True, the examples that share batch statistics)",
    "epsilon": "normalizer epsilon; null where the kind has none",
    "momentum": "BatchNorm moving-average momentum; null where not applicable",
    "groups": "GroupNorm group count; null where not applicable",
    "learning_rate": "the learning rate the optimizer used (after lr_scaling)",
    "base_learning_rate": "the suite's learning_rate before lr_scaling",
    "epochs": "training epochs",
    "optimizer": "sgd or adam",
    "placement": "normalizer before or after the activation",
    "precision": "Keras dtype policy: float32, mixed_float16 or mixed_bfloat16",
    "dataset": "dataset name",
    "input_scale": "factor applied to the dataset's raw pixels",
    "model": "model family (cnn, mlp)",
    "axes": "the grid-axis values of this case",
    "not_applicable": "grid axes that do not apply to this normalizer",
    "status": "ok | nan (training diverged) | failed (an error) | skipped (not run, see error)",
    "error": "why the case failed or was skipped; null when ok or nan",
    "test_accuracy": "test accuracy in inference mode (training=False, moving averages)",
    "test_accuracy_training_mode": "test accuracy called with training=True (batch statistics)",
    "output_max_abs_diff": "non-Keras implementations: max |output - Keras output| on the same input and "
                           "weights, training mode",
    "output_max_rel_diff": "that maximum over the largest |Keras output|",
    "gradient_max_abs_diff": "the same for the gradients with respect to the input, gamma and beta",
    "gradient_max_rel_diff": "that maximum over the largest |Keras gradient|, worst of the three",
    "fine_tune_bn": "with fine-tuning: trainable, frozen or frozen_training_mode; else null",
    "source_accuracy_before": "with fine-tuning: accuracy on the original data before fine-tuning",
    "target_accuracy_before": "with fine-tuning: accuracy on the shifted data before fine-tuning",
    "source_accuracy_after": "with fine-tuning: accuracy on the original data after fine-tuning "
                             "(test_accuracy is on the shifted data)",
    "nan_rate": "fraction of training steps whose loss was not finite",
    "first_nan_step": "0-based index of the first non-finite loss, or null",
    "weights_finite": "whether every weight was finite after training",
    "steps": "training steps run",
    "final_loss": "mean loss over the last 10% of steps; null if not finite",
    "shape": "layer suites: the activation shape's name (catalog.LAYER_SHAPES)",
    "jit_compile": "layer suites: whether the timed function was compiled with XLA",
    "pass": "layer suites: forward or forward_backward",
    "mode": "layer suites: the layer's training flag, training or inference",
    "layer_step_seconds": "layer suites: timing of one call, same keys as train_step_seconds plus mean",
    "layer_samples_per_sec": "layer suites: batch_size / median call time",
    "timing_cv": "layer suites: coefficient of variation (stddev / mean) of the timed rounds",
    "bytes_moved": "layer suites: the minimum activation bytes one call moves (bench/roofline.py)",
    "achieved_gb_per_s": "layer suites: bytes_moved / median call time, in GB/s",
    "bandwidth_gb_per_s": "layer suites: the device's copy bandwidth measured in the same worker",
    "bandwidth_fraction": "layer suites: achieved_gb_per_s / bandwidth_gb_per_s",
    "bn_statistics": "with monitor_statistics: per epoch and BN layer, the channel means of the moving "
                     "mean and variance, the mean's error in population sds and the moving/population "
                     "variance ratio",
    "train_samples_per_sec": "training throughput: batch_size / median train-step time",
    "infer_samples_per_sec": "inference throughput: batch_size / median predict-step time",
    "train_step_seconds": "train-step timing: median, iqr, stddev, min, max, rounds, iterations",
    "infer_step_seconds": "predict-step timing, same keys",
    "train_seconds": "wall time of the training loop (tracing included)",
    "case_seconds": "wall time of the whole case",
    "worker_peak_rss_mb": "peak resident memory of the worker process so far (MiB)",
    "executor": "serial (one worker process) or ray (a slot of a Ray cluster, local or remote)",
    "node": "where the case ran and was timed: host name, then the Ray node id on Ray",
    "slot_cpus": "CPUs the case's worker held (serial: the machine's)",
    "threads": "TensorFlow intra- and inter-op threads of the case's worker",
    "timing_exclusive": "whether no other case ran on the node while this case was timed",
    "started_at": "UTC start time, ISO 8601",
    "finished_at": "UTC end time, ISO 8601",
}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_record(case, run_id: str) -> dict[str, Any]:
    """A record for ``case`` with its identity filled and every measurement still null."""
    record = dict.fromkeys(FIELDS)
    options, training = case.normalizer_options, case.training
    record.update(
        schema_version=SCHEMA_VERSION, run_id=run_id, suite=case.suite, suite_kind=case.suite_kind,
        case_id=case.case_id, normalizer=case.normalizer, kind=case.kind, device=case.device, seed=case.seed,
        batch_size=training["batch_size"], epsilon=options.get("epsilon"), momentum=options.get("momentum"),
        groups=options.get("groups"), implementation=options.get("implementation"), axes=dict(case.axes), not_applicable=list(case.not_applicable),
        started_at=now(),
    )
    if case.suite_kind == "layer":
        record.update(precision=training["dtype"], shape=training["shape"], jit_compile=training["jit_compile"],
                      mode=training["mode"], **{"pass": training["pass"]})
        return record
    record.update(
        eval_batch_size=training["eval_batch_size"] or training["batch_size"],
        learning_rate=effective_learning_rate(
            training["learning_rate"], training["batch_size"], training["lr_scaling"],
            training["reference_batch_size"]),
        base_learning_rate=training["learning_rate"], epochs=training["epochs"],
        optimizer=training["optimizer"], placement=case.model_options.get("placement"),
        precision=training["precision"], dataset=case.dataset,
        input_scale=case.dataset_options.get("input_scale"), model=case.model,
        fine_tune_bn=training["fine_tune_bn"] if training["fine_tune_epochs"] else None,
    )
    return record


def skipped(case, run_id: str, reason: str) -> dict[str, Any]:
    record = new_record(case, run_id)
    record.update(status="skipped", error=reason, finished_at=record["started_at"])
    return record


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored record to the current schema; missing fields read as null."""
    version = record.get("schema_version")
    if version is not None and version > SCHEMA_VERSION:
        raise ValueError(f"record schema {version} is newer than this normbench ({SCHEMA_VERSION})")
    full = dict.fromkeys(FIELDS)
    full.update(record)
    return full
