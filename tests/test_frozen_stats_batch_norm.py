"""BN with statistics frozen after a warm-up: ordinary BN first, then fixed statistics."""

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow


def batches(n, size=8):
    rng = np.random.default_rng(0)
    return [rng.normal(1.0, 2.0, size=(size, 3)).astype("float32") for _ in range(n)]


def test_statistics_move_during_warm_up_then_stop():
    import keras

    from bench.measure.layers import build_normalizer

    frozen = build_normalizer("batch", {"momentum": 0.5, "freeze_stats_after": 3})
    plain = keras.layers.BatchNormalization(momentum=0.5)
    data = batches(6)
    for x in data[:3]:
        np.testing.assert_allclose(frozen(x, training=True), plain(x, training=True), atol=1e-6)
    np.testing.assert_allclose(frozen.moving_mean, plain.moving_mean, atol=1e-6)
    held_mean, held_variance = frozen.moving_mean.numpy(), frozen.moving_variance.numpy()
    for x in data[3:]:
        out = frozen(x, training=True)
        # after the warm-up a training call is an inference call: per-example, moving averages
        np.testing.assert_allclose(out, frozen(x, training=False), atol=1e-6)
        np.testing.assert_allclose(frozen(x[:1], training=True), out[:1], atol=1e-6)
    np.testing.assert_array_equal(frozen.moving_mean.numpy(), held_mean)
    np.testing.assert_array_equal(frozen.moving_variance.numpy(), held_variance)
    assert int(frozen.training_calls.numpy()) == 3


def test_gamma_and_beta_still_learn_after_the_freeze():
    import tensorflow as tf

    from bench.measure.layers import build_normalizer

    layer = build_normalizer("batch", {"freeze_stats_after": 1})
    x = tf.constant(batches(1)[0])
    layer(x, training=True)  # the warm-up
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x, training=True)))
    grads = tape.gradient(loss, layer.trainable_variables)
    assert len(grads) == 2 and all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_zero_means_plain_keras_batch_norm():
    import keras

    from bench.measure.layers import build_normalizer

    assert type(build_normalizer("batch", {"freeze_stats_after": 0})) is keras.layers.BatchNormalization
