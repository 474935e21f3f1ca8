"""Fine-tuning freeze semantics: what each ``fine_tune_bn`` mode lets change in BN layers."""

import numpy as np
import pytest

from bench.data import load_dataset

pytestmark = pytest.mark.tensorflow


def fine_tune(mode):
    """Train a small BN MLP for one epoch, then fine-tune it on inverted digits in ``mode``;
    returns the BN layers' variables before and after fine-tuning, and the other weights."""
    import keras

    from bench.measure.fine_tuning import prepare_batch_norm
    from bench.measure.models import build_model
    from bench.measure.statistics_monitor import batch_norm_layers
    from bench.measure.optimizer import make_optimizer
    from bench.measure.training import Trainer

    training = {"optimizer": "sgd", "sgd_momentum": 0.9, "precision": "float32"}
    data = load_dataset("digits", {"test_fraction": 0.25, "input_scale": 1 / 16})
    keras.utils.set_random_seed(0)
    model = build_model("mlp", {"widths": [16], "placement": "before"}, data.input_shape, 10, "batch",
                        {"momentum": 0.9})
    Trainer(model, make_optimizer(training, 0.05)).fit(data.x_train, data.y_train, 32, 1, 0)
    (layer,) = batch_norm_layers(model)
    names = ("gamma", "beta", "moving_mean", "moving_variance")

    def snapshot():
        return {n: getattr(layer, n).numpy().copy() for n in names}, model.layers[-1].kernel.numpy().copy()

    before, head_before = snapshot()
    shifted = data.shifted(-1.0, 1.0)
    tuner = Trainer(model, make_optimizer(training, 0.05), prepare_batch_norm(model, mode))
    losses = tuner.fit(shifted.x_train, shifted.y_train, 32, 1, 1)
    after, head_after = snapshot()
    assert np.isfinite(losses).all() and not np.allclose(head_before, head_after)  # it did fine-tune
    return before, after


def changed(before, after):
    return {name for name in before if not np.allclose(before[name], after[name])}


def test_frozen_keeps_every_bn_weight_and_statistic():
    assert changed(*fine_tune("frozen")) == set()


def test_frozen_training_mode_keeps_gamma_beta_but_moves_statistics():
    assert changed(*fine_tune("frozen_training_mode")) == {"moving_mean", "moving_variance"}


def test_trainable_changes_everything():
    assert changed(*fine_tune("trainable")) == {"gamma", "beta", "moving_mean", "moving_variance"}


def test_reference_batch_norm_freezes_like_keras():
    from bench.measure.layers import build_normalizer

    layer = build_normalizer("reference_batch", {"momentum": 0.5})
    x = np.random.default_rng(0).normal(3.0, 1.0, (8, 2)).astype("float32")
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True), layer(x, training=False))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), [0.0, 0.0])
