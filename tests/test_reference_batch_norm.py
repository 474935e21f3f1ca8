"""The project's BatchNorm from the article's formula agrees with keras.layers.BatchNormalization."""

import numpy as np
import pytest

from bench.suite import catalog


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
        "freeze_stats_after", "implementation", "synchronized"}


@pytest.mark.parametrize("shape, rmax, dmax", [((16, 5, 5, 4), 3.0, 5.0), ((4, 6), 1.5, 0.5), ((2, 3, 3, 4), 1.1, 0.1)])
def test_batch_renormalization_matches_keras(shape, rmax, dmax):
    """Outputs in both modes, moving statistics and gradients over steps whose batches are shifted
    and scaled, so r and d move (and clip at the tight settings)."""
    import tensorflow as tf

    from bench.measure.layers import build_by_calling, build_normalizer

    options = {"momentum": 0.8, "epsilon": 1e-3, "renorm": True, "renorm_rmax": rmax, "renorm_dmax": dmax,
               "renorm_momentum": 0.8}
    layers = [build_normalizer("batch", {**options, "implementation": impl}) for impl in ("reference", "keras")]
    rng = np.random.default_rng(0)
    gamma, beta = rng.uniform(0.5, 1.5, shape[-1]), rng.normal(0, 1, shape[-1])
    for layer in layers:
        build_by_calling(layer, shape)
        layer.gamma.assign(gamma.astype("float32"))
        layer.beta.assign(beta.astype("float32"))
    rng = np.random.default_rng(1)
    for step in range(6):
        x = tf.constant(rng.normal(step - 2.0, 0.5 + step, shape).astype("float32"))
        upstream = tf.constant(rng.normal(size=shape).astype("float32"))
        results = []
        for layer in layers:
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
            results.append((y, tape.gradient(y, [x, layer.gamma, layer.beta], output_gradients=upstream)))
        np.testing.assert_allclose(results[0][0], results[1][0], atol=2e-5, rtol=2e-5)
        for a, b in zip(results[0][1], results[1][1]):
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
    reference, library = layers
    np.testing.assert_allclose(reference.moving_mean, library.moving_mean, atol=1e-5)
    np.testing.assert_allclose(reference.moving_variance, library.moving_variance, rtol=1e-4)
    x = rng.normal(0, 2, shape).astype("float32")
    np.testing.assert_allclose(reference(x, training=False), library(x, training=False), atol=2e-5, rtol=2e-5)


def test_renorm_differs_from_plain_batch_norm_where_it_should():
    """With a batch unlike the moving statistics, renorm's output is pulled towards them (r, d)."""
    from bench.measure.layers import build_by_calling, build_normalizer

    x = np.random.default_rng(3).normal(4.0, 3.0, (8, 4)).astype("float32")
    outputs = []
    for renorm in (False, True):
        layer = build_normalizer("batch", {"renorm": renorm, "renorm_rmax": 3.0, "renorm_dmax": 5.0})
        build_by_calling(layer, x.shape)
        outputs.append(np.asarray(layer(x, training=True)))
    plain, renormed = outputs
    assert abs(plain.mean()) < 1e-5  # plain BN: zero mean per feature
    assert renormed.mean() > 1.0  # d = (mu_B - 0) / 1 clipped at 5 shifts it up
