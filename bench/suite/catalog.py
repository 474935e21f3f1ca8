"""Everything a suite file can name, with the options each accepts.

This table is what validation checks suites against, so it must stay importable without
TensorFlow; the code that builds the real Keras objects lives in ``bench.measure`` (and each
normalizer kind's own module in ``bench.normalizers``).

A normalizer kind lists the options it understands. A grid axis named after an option applies only
to the normalizers whose kind has it (momentum means nothing to LayerNorm); the grid records such
cases as "not applicable" instead of multiplying them.
"""

from __future__ import annotations

from typing import Mapping

from bench import normalizers as normalizer_registry
from bench.core.params import Param, at_least, fraction_open, in_unit_interval, positive

# The normalizer kinds a suite can name: one module each in bench/normalizers (the registry).
NORMALIZERS = normalizer_registry.NORMALIZERS

# Models whose options are the user's: besides the listed ones, any key is passed through to the
# user's callable, and any grid axis nothing else owns applies to them. Normalizer kinds say the same
# with their registry property ``open_options`` (see open_normalizer).
OPEN_OPTIONS = {"factory"}


def open_normalizer(kind: str) -> bool:
    """Whether a normalizer kind takes the user's own options (its registry entry says so)."""
    return NORMALIZERS[kind].open_options

DATASETS: dict[str, Mapping[str, Param]] = {
    "digits": {
        "test_fraction": Param(float, 0.25, fraction_open),
        "input_scale": Param(float, 1 / 16, positive, help="pixels are 0..16; 1/16 maps them to [0, 1]"),
    },
    "synthetic": {
        "samples": Param(int, 2000, at_least(20)),
        "image_size": Param(int, 8, at_least(2)),
        "channels": Param(int, 1, at_least(1)),
        "classes": Param(int, 10, at_least(2)),
        "noise": Param(float, 0.6, at_least(0.0), help="std of the per-pixel Gaussian noise"),
        "shift": Param(int, 0, at_least(0), help="each example moved by up to this many pixels (circularly)"),
        "overlap": Param(float, 0.0, at_least(0.0), help="another class's template added at a weight in [0, overlap)"),
        "test_fraction": Param(float, 0.25, fraction_open),
        "input_scale": Param(float, 1.0, positive),
    },
    "digit_scenes": {  # bench/data/digit_scenes.py: scikit-learn's digits as colour scenes, no download
        "image_size": Param(int, 32, at_least(8)),
        "copies": Param(int, 2, at_least(1), help="scenes rendered per source digit"),
        "min_size": Param(int, 14, at_least(4), help="smallest digit, in pixels"),
        "max_size": Param(int, 28, at_least(4), help="largest digit, in pixels (at most image_size)"),
        "exposure": Param(float, 3.0, at_least(1.0),
                          help="each image's gain drawn log-uniformly from [1/exposure, exposure]"),
        "noise": Param(float, 0.1, at_least(0.0), help="std of the per-pixel Gaussian noise"),
        "test_fraction": Param(float, 0.25, fraction_open),
    },
    "mnist1d": {  # Greydanus 2020, generated locally by the mnist1d package (bench/data/mnist1d.py)
        "samples": Param(int, 5000, at_least(100), help="examples generated (the paper's 5000)"),
        "test_fraction": Param(float, 0.2, fraction_open, help="the last share held out (the paper's 0.2)"),
        "input_scale": Param(float, 1.0, positive),
    },
    "npz": {  # a user's own data (bench/data/npz.py); the path is resolved against the suite's folder
        "path": Param(str, "", help="the .npz file with x_train, y_train, x_test, y_test"),
        "classes": Param(int, 0, at_least(0), help="class count (0: the largest label + 1)"),
        "input_scale": Param(float, 1.0, positive, help="factor applied to the inputs"),
    },
    "keras": {  # read from Keras's dataset cache, never downloaded (bench/data/keras_cache.py)
        "id": Param(str, "mnist", choices=("mnist", "fashion_mnist", "cifar10", "cifar100"),
                    help="which keras.datasets set (cifar100: its 100 fine labels)"),
        "train_examples": Param(int, 0, at_least(0), help="the first N of Keras's training split (0: all)"),
        "test_examples": Param(int, 0, at_least(0), help="the first N of Keras's test split (0: all)"),
        "input_scale": Param(float, 1 / 255, positive, help="8-bit pixels times this (1/255: [0, 1])"),
    },
}

_PLACEMENT = Param(str, "before", choices=("before", "after"),
                   help="normalize before the activation (the paper) or after it")
MODELS: dict[str, Mapping[str, Param]] = {
    "cnn": {
        "widths": Param(list, [16, 32], item=int, check=at_least(1), help="filters per conv block"),
        "placement": _PLACEMENT,
    },
    "mlp": {
        "widths": Param(list, [64, 64], item=int, check=at_least(1), help="units per dense block"),
        "placement": _PLACEMENT,
    },
    "resnet": {
        "depth": Param(int, 20, lambda d: None if d >= 8 and (d - 2) % 6 == 0 else "must be 6n + 2 (8, 14, 20, 32, ...)",
                       help="layers: 6n + 2 with n basic blocks per stage (ResNet-20: 20)"),
        "width": Param(int, 16, at_least(1), help="filters of the first stage (then 2x, 4x)"),
    },
    "transformer": {
        "width": Param(int, 32, at_least(2), help="model width (features per token)"),
        "heads": Param(int, 4, at_least(1), help="attention heads; must divide width"),
        "blocks": Param(int, 2, at_least(1), help="encoder blocks (attention + MLP)"),
        "placement": Param(str, "pre", choices=("pre", "post"),
                           help="normalize before each sublayer (pre-LN) or after each residual sum (post-LN)"),
    },
    "file": {  # a saved Keras model (bench/measure/saved_model.py); the path is resolved like a dataset's
        "file": Param(str, help="the .keras file (relative to the suite file's folder)"),
        "replace": Param(str, "BatchNormalization", help="the layer class swapped for the case's normalizer"),
        "weights": Param(str, "reinit", choices=("reinit", "keep"),
                         help="the other layers' weights: re-initialised, or kept as saved"),
    },
    "factory": {  # your own model (see OPEN_OPTIONS)
        "factory": Param(str, help="package.module:function called as function(input_shape, classes, "
                                   "normalization, **options); returns an uncompiled Keras model"),
    },
}

def model_widths(name: str, options: Mapping) -> list[int]:
    """The channel counts a model's normalizers see (group counts must divide each); [] when unknown."""
    if name in ("cnn", "mlp"):
        return list(options["widths"])
    if name == "resnet":
        return [options["width"] * 2 ** stage for stage in range(3)]
    if name == "transformer":
        return [options["width"]]
    return []


MODEL_AXIS = Param(str, "cnn", choices=("cnn", "mlp", "resnet", "transformer"),
                   help="a grid axis over model families; the model section's options apply to each")

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# Keras 3 backends a case can run on (bench.measure.backends holds one module per name). Each worker
# process serves one backend: KERAS_BACKEND is read once, when Keras is imported.
BACKENDS = ("tensorflow", "jax", "torch")
BACKEND = Param(str, "tensorflow", choices=BACKENDS,
                help="the Keras backend the case runs on; one not installed gives skipped records")
# Settings added after record schema 2, with the value every earlier run used: a case's config_hash
# includes them only when they differ from it, so earlier runs still pair in ``normbench compare``.
ADDED_SETTINGS = {"backend": "tensorflow", "replicas": 1, "quality_target": 0.0, "eval_every": 1}
# Normalizer options added after record schema 2, likewise left out of the hash at their default.
ADDED_NORMALIZER_OPTIONS = {"synchronized": False}
# trainable: BN learns gamma/beta and re-estimates statistics on the new data (training mode).
# frozen: layer.trainable = False, which in Keras also means inference mode (the article's advice).
# frozen_training_mode: gamma/beta excluded from the update, but BN still normalizes with batch
#   statistics and moves its averages: freezing weights without freezing statistics.
FINE_TUNE_BN = ("trainable", "frozen", "frozen_training_mode")

TRAINING: Mapping[str, Param] = {
    "backend": BACKEND,
    "epochs": Param(int, 3, at_least(1)),
    "batch_size": Param(int, 32, at_least(1), help="the global batch: with replicas, split evenly over them"),
    "replicas": Param(int, 1, at_least(1),
                      help="data-parallel replicas (tf.distribute.MirroredStrategy; logical CPU devices on a CPU "
                           "machine, or that many GPUs): batch_size is the global batch, each replica "
                           "trains on batch_size / replicas examples. TensorFlow backend only"),
    "optimizer": Param(str, "sgd", choices=("sgd", "adam")),
    "learning_rate": Param(float, 0.05, positive),
    "sgd_momentum": Param(float, 0.9, in_unit_interval, help="the optimizer's momentum, not BN's"),
    "lr_scaling": Param(str, "none", choices=("none", "linear"),
                        help="linear: learning_rate applies at reference_batch_size and scales with batch size"),
    "reference_batch_size": Param(int, 32, at_least(1)),
    "eval_batch_size": Param(int, 0, at_least(0),
                             help="test batch size (0: the training batch size); with training=True "
                                  "it sets how many examples share batch statistics"),
    "precision": Param(str, "float32", choices=PRECISIONS,
                       help="Keras dtype policy; mixed_float16 adds dynamic loss scaling"),
    "fine_tune_epochs": Param(int, 0, at_least(0),
                              help="epochs of fine-tuning on the shifted data after training (0: none)"),
    "fine_tune_bn": Param(str, "trainable", choices=FINE_TUNE_BN,
                          help="how BN layers are treated while fine-tuning (see the fine_tuning suite)"),
    "shift_gain": Param(float, -1.0, help="the shifted data is x * shift_gain + shift_offset "
                                          "(the defaults invert [0, 1] images)"),
    "shift_offset": Param(float, 1.0),
    "precise_bn_samples": Param(int, 0, at_least(0),
                                help="PreciseBN: after training, recompute BN's statistics as plain averages "
                                     "over this many training samples and record test_accuracy_precise_bn "
                                     "(0: off)"),
    "monitor_statistics": Param(bool, False, help="record BN moving and population statistics "
                                                  "after every epoch"),
    # time to accuracy (MLPerf Training's measure): bench/measure/quality_target.py records when the
    # held-out accuracy first reaches the target, bench/analysis/time_to_accuracy.py compares it
    "quality_target": Param(float, 0.0, lambda v: None if 0 <= v <= 1 else "must be in [0, 1] (0: no target)",
                            help="held-out (test, inference-mode) accuracy each case should reach: the step and "
                                 "epoch where it first does, and the time that implies, are recorded (0: none)"),
    "eval_every": Param(int, 1, at_least(1),
                        help="with quality_target: epochs between held-out evaluations (the last epoch is "
                             "always evaluated)"),
}

TIMING: Mapping[str, Param] = {
    "min_rounds": Param(int, 5, at_least(1)),
    "max_time": Param(float, 0.25, positive, help="seconds pytest-benchmark spends per measurement"),
    "warmup_rounds": Param(int, 3, at_least(0), help="untimed calls after tracing, before timing"),
    "case_timeout": Param(float, 900.0, positive, help="seconds before a case's worker is killed"),
    "round_time": Param(float, 0.0, at_least(0.0),
                        help="minimum seconds per timed round: the call repeats within a round until "
                             "it lasts this long, averaging out noise (0: one call per round)"),
}
QUICK_TIMING = {"min_rounds": 2, "max_time": 0.02, "warmup_rounds": 1}

# Layer suites (``workload: layer``) time a normalization layer alone on activation-shaped input.
# Shapes exclude the batch axis; the last axis is the channel/feature axis every layer normalizes.
LAYER_SHAPES: dict[str, tuple[int, ...]] = {
    "cifar_64": (32, 32, 64),          # a CIFAR-sized stage; batch 64 makes the 16 MiB input of issue 5
    "resnet50_conv2": (56, 56, 256),   # ResNet-50 stage outputs at 224x224 input
    "resnet50_conv3": (28, 28, 512),
    "resnet50_conv4": (14, 14, 1024),
    "resnet50_conv5": (7, 7, 2048),
    "bert_base": (128, 768),           # (tokens, features): a BERT-base sequence of 128 tokens
}
LAYER_BENCH: Mapping[str, Param] = {
    "backend": BACKEND,
    "shape": Param(str, "cifar_64", choices=tuple(LAYER_SHAPES), help="activation shape without the batch"),
    "batch_size": Param(int, 32, at_least(1)),
    "dtype": Param(str, "float32", choices=PRECISIONS, help="Keras dtype policy of the layer"),
    "jit_compile": Param(bool, False, help="compile the timed function with XLA"),
    "pass": Param(str, "forward", choices=("forward", "forward_backward")),
    "mode": Param(str, "training", choices=("training", "inference"), help="the layer's training flag"),
}
# A suite's workload: ``model`` trains and evaluates a model, ``layer`` times one normalization layer
# alone. Each has its settings section, which grid axes default to.
WORKLOADS = ("model", "layer")
SETTINGS = {"model": TRAINING, "layer": LAYER_BENCH}
SETTINGS_SECTION = {"model": "training", "layer": "layer"}

DEVICES = ("cpu", "gpu")
