"""The one result-record schema: every case, whatever happened to it, becomes one of these.

A record is a flat JSON object. ``FIELDS`` lists every key in order with what it means, its type,
unit and which direction is better; the README's field table, the report's frame, its verdicts and
``normbench compare`` read them from here instead of keeping their own lists. Bump
``SCHEMA_VERSION`` when a field changes meaning, and teach :func:`upgrade` to read the old version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bench.metrics import effective_learning_rate
from bench.suite.effects import case_warnings

SCHEMA_VERSION = 2
STATUSES = ("ok", "nan", "failed", "skipped")
TYPES = ("text", "integer", "number", "bool", "list", "mapping", "timing")


@dataclass(frozen=True)
class Field:
    """One record key: what it means, its JSON type, its unit, and whether higher or lower is better
    (``None`` for settings and descriptions, which have no better direction)."""

    description: str
    type: str
    unit: str | None = None
    better: str | None = None

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")


def _typed(kind: str):
    def make(description: str, unit: str | None = None, better: str | None = None) -> Field:
        return Field(description, kind, unit, better)
    return make


text, integer, number, boolean, listing, mapping, timing = (
    _typed(t) for t in ("text", "integer", "number", "bool", "list", "mapping", "timing"))

FIELDS: dict[str, Field] = {
    "schema_version": integer("version of this record layout"),
    "run_id": text("the run directory's name"),
    "suite": text("suite name"),
    "suite_kind": text("model (train and evaluate a model) or layer (time one normalization layer alone)"),
    "case_id": text("suite/normalizer/axis=value,.../seed=N/device: unique within a run"),
    "config_hash": text("sha256 (first 16 hex digits) of the case's fully resolved configuration, seed and "
                        "device: two runs' cases are the same experiment only when these agree"),
    "normalizer": text("the normalizer's label in the suite"),
    "kind": text("the normalizer kind (batch, group, layer, none)"),
    "implementation": text("keras, tfa (tensorflow-addons) or reference; null where the kind has one only"),
    "device": text("cpu or gpu"),
    "backend": text("the Keras backend the case ran on: tensorflow, jax or torch"),
    "backend_version": text("that backend's framework version (TensorFlow, JAX or PyTorch)"),
    "step_compiler": text("how the timed and trained steps ran: tf.function, jax.jit, or torch eager"),
    "seed": integer("seed for weights and shuffling"),
    "batch_size": integer("training batch size", unit="examples"),
    "eval_batch_size": integer("test batch size (for training=True, the examples that share batch statistics)",
                               unit="examples"),
    "epsilon": number("normalizer epsilon; null where the kind has none"),
    "momentum": number("BatchNorm moving-average momentum; null where not applicable"),
    "groups": integer("GroupNorm group count; null where not applicable"),
    "learning_rate": number("the learning rate the optimizer used (after lr_scaling)"),
    "base_learning_rate": number("the suite's learning_rate before lr_scaling"),
    "epochs": integer("training epochs"),
    "optimizer": text("sgd or adam"),
    "placement": text("normalizer before or after the activation"),
    "precision": text("Keras dtype policy: float32, mixed_float16 or mixed_bfloat16"),
    "dataset": text("dataset name"),
    "input_scale": number("factor applied to the dataset's raw pixels"),
    "model": text("model family (cnn, mlp), factory (the suite's own function) or file (a saved model)"),
    "replaced_layers": integer("model file: how many of its layers were swapped for the case's normalizer"),
    "axes": mapping("the grid-axis values of this case"),
    "not_applicable": listing("grid axes that do not apply to this normalizer"),
    "status": text("ok | nan (training diverged) | failed (an error) | skipped (not run, see error)"),
    "error": text("why the case failed or was skipped; null when ok or nan"),
    "warnings": listing("settings of this case that cannot take effect (e.g. a BatchNorm freeze step "
                        "beyond the last training step); empty when none"),
    "test_accuracy": number("test accuracy in inference mode (training=False, moving averages)",
                            unit="fraction", better="higher"),
    "test_accuracy_precise_bn": number("with precise_bn_samples: inference-mode test accuracy after "
                                       "PreciseBN recomputed BN's statistics (the moving averages are "
                                       "restored afterwards)", unit="fraction", better="higher"),
    "precise_bn_samples_used": integer("training samples PreciseBN averaged over (whole batches); null when off",
                                  unit="examples"),
    "precise_bn_bessel": boolean("whether PreciseBN's averaged batch variances were unbiased (n-1): the "
                                 "Keras 2 fused kernel's choice; Keras 3 averages the biased ones"),
    "test_accuracy_training_mode": number("test accuracy called with training=True (batch statistics)",
                                          unit="fraction", better="higher"),
    "output_max_abs_diff": number("non-Keras implementations: max |output - Keras output| on the same input "
                                  "and weights, training mode", better="lower"),
    "output_max_rel_diff": number("that maximum over the largest |Keras output|", better="lower"),
    "gradient_max_abs_diff": number("the same for the gradients with respect to the input, gamma and beta",
                                    better="lower"),
    "gradient_max_rel_diff": number("that maximum over the largest |Keras gradient|, worst of the three",
                                    better="lower"),
    "batch_dependence_training": number("kernel check: largest change of one example's output when the "
                                        "other examples of its batch change, over its largest |output|, "
                                        "training mode (0 except for BatchNorm)", better="lower"),
    "batch_dependence_inference": number("the same in inference mode: 0 for every normalizer",
                                         better="lower"),
    "xla_max_rel_diff": number("kernel check: output and gradients with jit_compile vs without, on the same "
                               "input and weights, largest difference over the largest |value|",
                               better="lower"),
    "fine_tune_bn": text("with fine-tuning: trainable, frozen or frozen_training_mode; else null"),
    "source_accuracy_before": number("with fine-tuning: accuracy on the original data before fine-tuning",
                                     unit="fraction", better="higher"),
    "target_accuracy_before": number("with fine-tuning: accuracy on the shifted data before fine-tuning",
                                     unit="fraction", better="higher"),
    "source_accuracy_after": number("with fine-tuning: accuracy on the original data after fine-tuning "
                                    "(test_accuracy is on the shifted data)", unit="fraction", better="higher"),
    "nan_rate": number("fraction of training steps whose loss was not finite", unit="fraction", better="lower"),
    "first_nan_step": integer("0-based index of the first non-finite loss, or null", unit="step"),
    "weights_finite": boolean("whether every weight was finite after training"),
    "steps": integer("training steps run", unit="step"),
    "final_loss": number("mean loss over the last 10% of steps; null if not finite", better="lower"),
    "shape": text("layer suites: the activation shape's name (catalog.LAYER_SHAPES)"),
    "jit_compile": boolean("layer suites: whether the timed function was compiled with XLA"),
    "pass": text("layer suites: forward or forward_backward"),
    "mode": text("layer suites: the layer's training flag, training or inference"),
    "layer_step_seconds": timing("layer suites: timing of one call, same keys as train_step_seconds plus mean",
                                 unit="s", better="lower"),
    "layer_samples_per_sec": number("layer suites: batch_size / median call time",
                                    unit="samples/s", better="higher"),
    "timing_cv": number("layer suites: coefficient of variation (stddev / mean) of the timed rounds",
                        unit="fraction", better="lower"),
    "bytes_moved": integer("layer suites: the minimum activation bytes one call moves (bench/roofline.py)",
                           unit="bytes"),
    "achieved_gb_per_s": number("layer suites: bytes_moved / median call time, in GB/s",
                                unit="GB/s", better="higher"),
    "bandwidth_gb_per_s": number("layer suites: the machine's ceiling measured next to the case: best of "
                                 "STREAM-style copy/scale/add over preallocated arrays on the case's cores "
                                 "(bench/measure/stream.py)",
                                 unit="GB/s"),
    "bandwidth_fraction": number("layer suites: achieved_gb_per_s / bandwidth_gb_per_s",
                                 unit="fraction", better="higher"),
    "ceiling_kind": text("layer suites: memory (arrays beyond the last-level cache), cache-resident (the "
                         "call's working set fits in it: judged against a copy of the tensor's size) or "
                         "device (GPU: TensorFlow's elementwise kernel)"),
    "framework_gb_per_s": number("layer suites: TensorFlow's elementwise x*2 over 256 MiB (a fresh output "
                                 "every call), the framework ceiling", unit="GB/s"),
    "framework_fraction": number("layer suites: achieved_gb_per_s / framework_gb_per_s", unit="fraction"),
    "bn_statistics": listing("with monitor_statistics: per epoch and BN layer, the channel means of the "
                             "moving mean and variance, the mean's error in population sds and the "
                             "moving/population variance ratio"),
    "train_samples_per_sec": number("training throughput: batch_size / median train-step time",
                                    unit="samples/s", better="higher"),
    "infer_samples_per_sec": number("inference throughput: batch_size / median predict-step time",
                                    unit="samples/s", better="higher"),
    "train_step_seconds": timing("train-step timing: median, iqr, stddev, min, max, rounds, iterations",
                                 unit="s", better="lower"),
    "infer_step_seconds": timing("predict-step timing, same keys", unit="s", better="lower"),
    "reference_seconds": number("best time of a fixed matmul-and-copy kernel, the mean of one run just "
                                "before and one just after the case's timing: the machine's speed then "
                                "(bench/measure/reference.py)", unit="s", better="lower"),
    "train_seconds": number("wall time of the training loop (tracing included)", unit="s"),
    "case_seconds": number("wall time of the whole case", unit="s"),
    "worker_peak_rss_mb": number("peak resident memory of the worker process so far (MiB)", unit="MiB"),
    "executor": text("serial (one worker process) or ray (a slot of a Ray cluster, local or remote)"),
    "node": text("where the case ran and was timed: host name, then the Ray node id on Ray"),
    "slot_cpus": integer("CPUs the case's worker held (serial: the machine's)"),
    "threads": integer("TensorFlow intra- and inter-op threads of the case's worker"),
    "timing_exclusive": boolean("whether no other case ran on the node while this case was timed"),
    "started_at": text("UTC start time, ISO 8601"),
    "finished_at": text("UTC end time, ISO 8601"),
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
        backend=training.get("backend", "tensorflow"),
        batch_size=training["batch_size"], epsilon=options.get("epsilon"), momentum=options.get("momentum"),
        groups=options.get("groups"), implementation=options.get("implementation"), axes=dict(case.axes),
        not_applicable=list(case.not_applicable), config_hash=case.config_hash, warnings=case_warnings(case),
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
    if (version or 1) < 2 and record.get("suite_kind") == "layer":
        # version 1 divided by TensorFlow's elementwise kernel: that is the framework ceiling now
        full.update(framework_gb_per_s=record.get("bandwidth_gb_per_s"),
                    framework_fraction=record.get("bandwidth_fraction"), bandwidth_gb_per_s=None,
                    bandwidth_fraction=None)
    if full["backend"] is None:
        full["backend"] = "tensorflow"  # every case before the backend axis ran on TensorFlow
    full["schema_version"] = SCHEMA_VERSION
    return full
