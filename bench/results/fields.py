"""The typed record-field table: every key a result record has, in order, with its JSON type, unit,
the direction that is better, and where it is shown.

One entry per field, and everything else is built from it: records (``bench.results.records``), the
report's frame, summary and case tables, ``normbench compare``'s metrics and printed columns, the
verdicts' direction, and the docs' field reference (``python -m bench.results.fields_doc``). A new
metric is one entry here plus the code that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPES = ("text", "integer", "number", "bool", "list", "mapping", "timing")
# Where a field is shown besides the record itself:
#   summary  a column of each suite's summary table (mean ± sd over seeds, or the median for rates)
#   cases    a column of the report's every-case table
#   compare  compared between two runs by ``normbench compare`` (and its printed table)
PLACES = ("summary", "cases", "compare")


@dataclass(frozen=True)
class Field:
    """One record key: what it means, its JSON type, its unit, whether higher or lower is better
    (``None`` for settings and descriptions, which have no better direction), a short label for
    table headers, and the places it is shown (``PLACES``)."""

    description: str
    type: str
    unit: str | None = None
    better: str | None = None
    label: str | None = None
    shown: tuple[str, ...] = ()

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"field type must be one of {TYPES}, got {self.type!r}")
        if self.better not in (None, "higher", "lower"):
            raise ValueError(f"better must be 'higher', 'lower' or None, got {self.better!r}")
        unknown = [place for place in self.shown if place not in PLACES]
        if unknown:
            raise ValueError(f"unknown places {unknown} (known: {PLACES})")

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")

    @property
    def title(self) -> str:
        return self.label or self.description.split(";")[0]

    @property
    def is_rate(self) -> bool:
        """A throughput (samples/s): compared as a ratio, machine-relative, its rounds tested."""
        return self.unit == "samples/s" and self.better == "higher"

    @property
    def is_accuracy(self) -> bool:
        """An accuracy (a fraction, higher is better): compared as a difference in points."""
        return self.unit == "fraction" and self.better == "higher"


def _typed(kind: str):
    def make(description: str, unit: str | None = None, better: str | None = None, label: str | None = None,
             shown: tuple[str, ...] = ()) -> Field:
        return Field(description, kind, unit, better, label, shown)
    return make


text, integer, number, boolean, listing, mapping, timing = (_typed(t) for t in TYPES)

FIELDS: dict[str, Field] = {
    "schema_version": integer("version of this record layout"),
    "run_id": text("the run directory's name"),
    "suite": text("suite name"),
    "workload": text("the suite's workload: model (train and evaluate a model) or layer (time one normalization "
                     "layer alone); suite_kind before schema 3"),
    "case_id": text("suite/normalizer/axis=value,.../seed=N/device: unique within a run",
                    label="case", shown=("cases",)),
    "config_hash": text("sha256 (first 16 hex digits) of the case's fully resolved configuration, seed and "
                        "device: two runs' cases are the same experiment only when these agree"),
    "normalizer": text("the normalizer's label in the suite"),
    "normalizer_kind": text("the normalizer kind (bench/normalizers: batch, group, layer, rms, ...); kind before "
                            "schema 3"),
    "implementation": text("keras, tfa (tensorflow-addons) or reference; null where the kind has one only"),
    "device": text("cpu or gpu"),
    "backend": text("the Keras backend the case ran on: tensorflow, jax or torch"),
    "backend_version": text("that backend's framework version (TensorFlow, JAX or PyTorch)"),
    "step_compiler": text("how the timed and trained steps ran: tf.function, jax.jit, or torch eager"),
    "seed": integer("seed for weights and shuffling"),
    "batch_size": integer("training batch size", unit="examples"),
    "replicas": integer("data-parallel replicas the case trained on (1: one device)"),
    "per_device_batch": integer("examples each replica's BatchNorm saw per step: batch_size / replicas",
                                unit="examples"),
    "synchronized": boolean("BatchNorm only: statistics over the global batch across replicas (synchronized BN); "
                            "null for other normalizers"),
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
    "status": text("ok | nan (training diverged) | failed (an error) | skipped (not run, see error)",
                   label="status", shown=("cases",)),
    "error": text("why the case failed or was skipped; null when ok or nan", label="error / reason", shown=("cases",)),
    "warnings": listing("settings of this case that cannot take effect (e.g. a BatchNorm freeze step "
                        "beyond the last training step); empty when none"),
    "test_accuracy": number("test accuracy in inference mode (training=False, moving averages)",
                            unit="fraction", better="higher",
                            label="acc (inference)", shown=("summary", "cases", "compare")),
    "chance_accuracy": number("the test set's most frequent class's share: the accuracy of always guessing it "
                              "(a setting where every case is within 2 points of it, or diverged, has failed)",
                              unit="fraction"),
    "test_accuracy_precise_bn": number("with precise_bn_samples: inference-mode test accuracy after "
                                       "PreciseBN recomputed BN's statistics (the moving averages are "
                                       "restored afterwards)", unit="fraction", better="higher",
                                       label="acc PreciseBN", shown=("summary",)),
    "precise_bn_samples_used": integer("training samples PreciseBN averaged over (whole batches); null when off",
                                  unit="examples"),
    "precise_bn_bessel": boolean("whether PreciseBN's averaged batch variances were unbiased (n-1): the "
                                 "Keras 2 fused kernel's choice; Keras 3 averages the biased ones"),
    "test_accuracy_training_mode": number("test accuracy called with training=True (batch statistics)",
                                          unit="fraction", better="higher",
                                          label="acc (training mode)", shown=("summary", "cases")),
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
                                     unit="fraction", better="higher",
                                     label="acc original, before", shown=("summary",)),
    "target_accuracy_before": number("with fine-tuning: accuracy on the shifted data before fine-tuning",
                                     unit="fraction", better="higher", label="acc shifted, before", shown=("summary",)),
    "source_accuracy_after": number("with fine-tuning: accuracy on the original data after fine-tuning "
                                    "(test_accuracy is on the shifted data)", unit="fraction", better="higher",
                                    label="acc original, after", shown=("summary",)),
    "nan_rate": number("fraction of training steps whose loss was not finite", unit="fraction", better="lower",
                       label="NaN rate", shown=("summary", "cases")),
    "first_nan_step": integer("0-based index of the first non-finite loss, or null", unit="step",
                              label="first NaN step", shown=("summary",)),
    "weights_finite": boolean("whether every weight was finite after training"),
    "steps": integer("training steps run", unit="step"),
    "final_loss": number("mean loss over the last 10% of steps; null if not finite", better="lower"),
    "quality_target": number("with a quality_target setting: the held-out accuracy (test set, inference mode) the "
                             "case should reach; null without one", unit="fraction"),
    "target_reached": boolean("with quality_target: whether an evaluation (every eval_every epochs and after the "
                              "last) found the held-out accuracy at or above it; null without a target"),
    "steps_to_target": integer("with quality_target: training steps run when the held-out accuracy was first "
                               "found at or above it; null when not reached", unit="step", better="lower"),
    "epochs_to_target": integer("with quality_target: epochs run by then; null when not reached", unit="epoch",
                                better="lower"),
    "time_to_target_seconds": number("with quality_target: steps_to_target x the median train-step time "
                                     "(train_step_seconds, timed alone; the quality phase's wall clock is not a "
                                     "timing); null when not reached or not timed", unit="s", better="lower",
                                     label="time to target s"),
    "target_evaluations": listing("with quality_target: each held-out evaluation's epoch, step and accuracy, in "
                                  "order (the last one's step bounds a case that never reached the target)"),
    "shape": text("layer suites: the activation shape's name (catalog.LAYER_SHAPES)"),
    "jit_compile": boolean("layer suites: whether the timed function was compiled with XLA"),
    "pass": text("layer suites: forward or forward_backward"),
    "mode": text("layer suites: the layer's training flag, training or inference"),
    "layer_step_seconds": timing("layer suites: timing of one call, same keys as train_step_seconds plus mean",
                                 unit="s", better="lower"),
    "layer_samples_per_sec": number("layer suites: batch_size / median call time",
                                    unit="samples/s", better="higher", label="layer samples/s", shown=("compare",)),
    "timing_cv": number("layer suites: coefficient of variation (stddev / mean) of the timed rounds",
                        unit="fraction", better="lower"),
    "bytes_moved": integer("layer suites: the minimum activation bytes one call moves (bench/measure/roofline.py)",
                           unit="bytes"),
    "achieved_gb_per_s": number("layer suites: bytes_moved / median call time, in GB/s",
                                unit="GB/s", better="higher"),
    "bandwidth_gb_per_s": number("layer suites: the machine's ceiling measured next to the case: best of "
                                 "STREAM-style copy/scale/add over preallocated arrays on the case's cores "
                                 "(bench/measure/stream.py)",
                                 unit="GB/s"),
    "bandwidth_fraction": number("layer suites: achieved_gb_per_s / bandwidth_gb_per_s",
                                 unit="share of the ceiling", better="higher"),
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
                                    unit="samples/s", better="higher",
                                    label="train samples/s", shown=("summary", "cases", "compare")),
    "infer_samples_per_sec": number("inference throughput: batch_size / median predict-step time",
                                    unit="samples/s", better="higher",
                                    label="infer samples/s", shown=("summary", "cases", "compare")),
    "train_step_seconds": timing("train-step timing: median, iqr, stddev, min, max, rounds, iterations",
                                 unit="s", better="lower"),
    "infer_step_seconds": timing("predict-step timing, same keys", unit="s", better="lower"),
    "reference_seconds": number("best time of a fixed matmul-and-copy kernel, the mean of one run just "
                                "before and one just after the case's timing: the machine's speed then "
                                "(bench/measure/reference.py)", unit="s", better="lower"),
    "train_seconds": number("wall time of the training loop (tracing included)", unit="s"),
    "case_seconds": number("wall time of the whole case", unit="s", label="case s", shown=("cases",)),
    "worker_peak_rss_mb": number("peak resident memory of the worker process so far (MiB)", unit="MiB"),
    "executor": text("serial (one worker process) or ray (a slot of a Ray cluster, local or remote)"),
    "node": text("where the case ran and was timed: host name, then the Ray node id on Ray"),
    "slot_cpus": integer("CPUs the case's worker held (serial: the machine's)"),
    "threads": integer("TensorFlow intra- and inter-op threads of the case's worker"),
    "timing_exclusive": boolean("whether no other case ran on the node while this case was timed"),
    "timing_group": text("the id shared by the cases (the candidates of one setting and seed) whose timing rounds "
                         "ran interleaved in one worker: round r of each is paired with round r of the others "
                         "(bench/analysis/paired_timing.py); null: timed alone"),
    "untimed": text("why the case's steps were not timed although it trained: a budgeted run's added seed that only "
                    "accuracy comparisons asked for (null: timed, or it never got that far)"),
    "reused_steps": boolean("whether the case trained on the traced or compiled steps of an earlier case of its "
                            "configuration (another seed) in the same worker, its own initial weights copied in "
                            "(bench/measure/warm_models.py): the same results without tracing again"),
    "started_at": text("UTC start time, ISO 8601"),
    "finished_at": text("UTC end time, ISO 8601"),
}


def register_field(name: str, field: Field) -> Field:
    """Add a field (a new metric); records, the frame, tables, compare and the docs pick it up."""
    if name in FIELDS:
        raise ValueError(f"record field {name!r} exists already")
    FIELDS[name] = field
    return field


def unregister_field(name: str) -> None:
    """Remove a field added with :func:`register_field` (tests register throwaway ones)."""
    FIELDS.pop(name, None)


def shown_in(place: str) -> list[str]:
    """The fields shown in ``place``, in table order."""
    return [name for name, field in FIELDS.items() if place in field.shown]


def accuracy_fields() -> tuple[str, ...]:
    """The fields holding an accuracy (the verdicts' accuracy_field and versus_field choose among them)."""
    return tuple(name for name, field in FIELDS.items() if field.is_accuracy)


def label(name: str) -> str:
    field = FIELDS.get(name)
    return field.title if field else name
