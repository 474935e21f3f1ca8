"""Checks that catch broken normalization kernels, recorded as fields instead of trusted away.

- **batch dependence**: one example's output must not change when the other examples of its batch
  change, except for BatchNorm in training mode (that is what batch statistics do). Measured as the
  largest change of example 0's output over the largest |output|, in training and inference mode.
- **XLA agreement**: the layer's output and its gradients with ``jit_compile=True`` against without,
  on the same input and weights (tensorflow/tensorflow #117318 and #118701 report XLA kernels that
  disagree or produce NaN), over the largest |value|.

Both depend only on the normalizer kind, its options and the dtype, so a worker computes them once
per distinct configuration (``checks_for``) and every case of that configuration records them.
Which values fail is decided by :func:`bench.analysis.kernel_flags.kernel_check_failures` (no TensorFlow there:
the report uses it).
"""

from __future__ import annotations

import json

import keras
import numpy as np

from bench.measure import compat
from bench.measure.layers import build_by_calling, build_normalizer

SHAPE = (8, 6, 6, 16)
_CACHE: dict[str, dict] = {}


def batch_dependence(layer, x: np.ndarray, training: bool) -> float:
    """max |f(x)[0] - f(x')[0]| / max |f(x)[0]| where x' keeps example 0 and redraws the others."""
    others = np.random.default_rng(7).normal(5.0, 4.0, x.shape).astype(x.dtype)
    others[0] = x[0]
    state = _snapshot(layer)
    first = compat.to_numpy(layer(compat.to_tensor(x), training=training)[0]).astype(np.float64)
    _restore(layer, state)  # a training call moves statistics (renorm's r and d read them)
    second = compat.to_numpy(layer(compat.to_tensor(others), training=training)[0]).astype(np.float64)
    return float(np.max(np.abs(first - second)) / max(float(np.max(np.abs(first))), 1e-30))


def xla_difference(layer, x: np.ndarray, training: bool) -> float:
    """Largest difference between the layer compiled with XLA and without, output and gradients
    with respect to the input and weights, over the largest |value| of each (TensorFlow's XLA switch)."""
    import tensorflow as tf

    upstream = tf.constant(np.random.default_rng(8).normal(size=x.shape).astype("float32"))

    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = layer(inputs, training=training)
        grads = tape.gradient(y, [inputs, *layer.trainable_weights], output_gradients=tf.cast(upstream, y.dtype))
        return [y, *grads]

    inputs = tf.constant(x)
    state = _snapshot(layer)
    plain = tf.function(step)(inputs)
    _restore(layer, state)  # both calls start from the same statistics
    compiled = tf.function(step, jit_compile=True)(inputs)
    worst = 0.0
    for a, b in zip(plain, compiled):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if not np.all(np.isfinite(b)) and np.all(np.isfinite(a)):
            return float("inf")
        worst = max(worst, float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-30)))
    return worst


def _snapshot(layer) -> list:
    return [compat.to_numpy(w) for w in layer.non_trainable_weights]


def _restore(layer, state: list) -> None:
    for weight, value in zip(layer.non_trainable_weights, state):
        weight.assign(value)


def run_checks(kind: str, options: dict, dtype: str = "float32", layer_factory=None) -> dict:
    """The three check fields for a fresh layer of ``kind`` (or ``layer_factory()``); the XLA one
    on the TensorFlow backend only (JAX compiles everything with XLA; PyTorch has no such switch)."""
    make = layer_factory or (lambda: build_normalizer(kind, options))
    compat.set_dtype_policy(dtype)
    try:
        x = np.random.default_rng(6).normal(2.0, 3.0, SHAPE).astype("float32")
        results = {}
        for mode, training in (("training", True), ("inference", False)):
            layer = make()
            build_by_calling(layer, SHAPE)
            results[f"batch_dependence_{mode}"] = batch_dependence(layer, x, training)
        if not compat.KERAS_3 or keras.backend.backend() == "tensorflow":
            layer = make()
            build_by_calling(layer, SHAPE)
            results["xla_max_rel_diff"] = xla_difference(layer, x, True)
        return results
    finally:
        compat.set_dtype_policy("float32")


def checks_for(kind: str, options: dict, dtype: str) -> dict:
    """``run_checks`` once per worker and configuration (seed and model do not matter)."""
    key = json.dumps([kind, options, dtype], sort_keys=True, default=str)
    if key not in _CACHE:
        _CACHE[key] = run_checks(kind, options, dtype)
    return dict(_CACHE[key])


def record_checks(record: dict, kind: str, options: dict, dtype: str) -> None:
    """Fill the check fields of ``record``; a check that cannot run becomes a warning, not a failure."""
    try:
        record.update(checks_for(kind, options, dtype))
    except Exception as exc:  # noqa: BLE001 - the case's own measurement must still run
        record["warnings"] = [*(record.get("warnings") or []),
                              f"kernel checks could not run: {type(exc).__name__}: {exc}"[:300]]
