"""Two implementations of one normalizer, compared on the same input and the same weights.

Used for ``implementation: tfa`` (tensorflow-addons' GroupNormalization) and ``implementation:
reference`` (the article's BatchNorm, the papers' RMSNorm and InstanceNorm): each is checked against
the Keras layer of the same kind, in training mode, on a fixed random NHWC batch, for the forward
output and for the gradients with respect to the input and the layer's weights (gamma and beta, or
RMSNorm's scale). Differences are reported as the maximum absolute difference
and that maximum over the largest magnitude of the Keras result (a norm-wise relative difference
that does not blow up where the Keras value is near zero).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bench.measure.layers import build_by_calling, build_normalizer


def compare_with_keras(kind: str, options: dict, seed: int = 0) -> dict:
    channels = 4 * options.get("groups", 4)
    shape = (16, 8, 8, channels)
    candidate = build_normalizer(kind, options)
    keras_layer = build_normalizer(kind, {**options, "implementation": "keras"})
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(2.0, 3.0, shape).astype("float32"))
    upstream = tf.constant(rng.normal(0.0, 1.0, shape).astype("float32"))
    # the same non-trivial values in both layers' weights, in order (gamma then beta, or RMSNorm's scale)
    weights = [rng.uniform(0.5, 1.5, channels), rng.normal(0.0, 1.0, channels)]
    results = []
    for layer in (candidate, keras_layer):
        build_by_calling(layer, shape)
        for variable, value in zip(layer.trainable_weights, weights):
            variable.assign(value.astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        grads = tape.gradient(y, [x, *layer.trainable_weights], output_gradients=upstream)
        results.append((y.numpy(), [g.numpy() for g in grads]))
    (y_candidate, g_candidate), (y_keras, g_keras) = results
    output_abs, output_rel = differences([y_candidate], [y_keras])
    grad_abs, grad_rel = differences(g_candidate, g_keras)
    return {"output_max_abs_diff": output_abs, "output_max_rel_diff": output_rel,
            "gradient_max_abs_diff": grad_abs, "gradient_max_rel_diff": grad_rel}


def differences(candidates, references) -> tuple[float, float]:
    """Max absolute difference over all arrays, and the largest per-array max difference over that
    array's largest reference magnitude."""
    absolute = [float(np.max(np.abs(c - r))) for c, r in zip(candidates, references)]
    relative = [a / max(float(np.max(np.abs(r))), 1e-30) for a, r in zip(absolute, references)]
    return max(absolute), max(relative)
