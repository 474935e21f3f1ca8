"""The project's BatchNorm from the article's formula agrees with keras.layers.BatchNormalization."""

import numpy as np
import pytest

from bench import catalog


pytestmark = pytest.mark.tensorflow
TOLERANCE = 1e-5  # float32; observed differences are below 1e-6


@pytest.fixture
def pair():
    import keras

    from bench.measure.layers import build_by_calling, build_normalizer

    options = {"momentum": 0.9, "epsilon": 1e-3, "center": True, "scale": True}
    reference, library = build_normalizer("reference_batch", options), keras.layers.BatchNormalization(**options)
    shape = (16, 5, 5, 4)
    build_by_calling(reference, shape)
    build_by_calling(library, shape)
    rng = np.random.default_rng(0)
    for layer in (reference, library):  # the same non-trivial gamma and beta in both
        layer.gamma.assign(rng.uniform(0.5, 1.5, 4).astype("float32"))
        layer.beta.assign(rng.normal(0, 1, 4).astype("float32"))
        rng = np.random.default_rng(0)
    return reference, library


def batches(n):
    rng = np.random.default_rng(1)
    return [rng.normal(2.0, 3.0, size=(16, 5, 5, 4)).astype("float32") for _ in range(n)]


def test_training_mode_outputs_and_moving_statistics_after_steps(pair):
    reference, library = pair
    biased, keras_2 = 1.0, 1.0  # the moving variance each recursion predicts
    for x in batches(7):
        np.testing.assert_allclose(reference(x, training=True), library(x, training=True), atol=TOLERANCE)
        biased = 0.9 * biased + 0.1 * x.var(axis=(0, 1, 2))
        keras_2 = 0.9 * keras_2 + 0.1 * x.var(axis=(0, 1, 2), ddof=1)
    np.testing.assert_allclose(reference.moving_mean, library.moving_mean, atol=TOLERANCE)
    np.testing.assert_allclose(reference.moving_variance, biased, rtol=1e-5)
    # Keras 3 moves the average with the batch's biased variance, as the reference does; Keras 2
    # (TF <= 2.15, fused kernel) with the unbiased one (n / (n - 1), n = 400 values per channel).
    from bench.measure.compat import KERAS_3

    np.testing.assert_allclose(library.moving_variance, biased if KERAS_3 else keras_2, rtol=1e-5)
    assert not np.allclose(reference.moving_mean.numpy(), 0.0)  # the statistics really moved


def test_inference_mode_uses_the_moving_averages(pair):
    reference, library = pair
    for x in batches(3):
        reference(x, training=True), library(x, training=True)
    library.moving_variance.assign(reference.moving_variance)  # equal under Keras 3; see above for 2
    x = batches(1)[0]
    np.testing.assert_allclose(reference(x, training=False), library(x, training=False), atol=TOLERANCE)


def test_gradients_match(pair):
    import tensorflow as tf

    reference, library = pair
    x = tf.constant(batches(1)[0])
    grads = []
    for layer in (reference, library):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=1e-4)


def test_reference_kind_is_in_the_catalog():
    assert set(catalog.NORMALIZERS["reference_batch"].options) == set(catalog.NORMALIZERS["batch"].options) - {
        "freeze_stats_after", "implementation"}
