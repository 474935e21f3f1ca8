"""The per-epoch BN statistics monitor, and mixed precision training, on a real small model."""

import numpy as np
import pytest

from bench.data import load_dataset

pytestmark = pytest.mark.tensorflow


def train(momentum, epochs=3, precision="float32", kind="batch"):
    import keras

    from bench.measure import compat
    from bench.measure.models import build_model
    from bench.measure.statistics_monitor import StatisticsMonitor
    from bench.measure.optimizer import make_optimizer
    from bench.measure.training import Trainer

    data = load_dataset("digits", {"test_fraction": 0.25, "input_scale": 1 / 16})
    keras.utils.set_random_seed(0)
    compat.set_dtype_policy(precision)
    try:
        model = build_model("mlp", {"widths": [16, 16], "placement": "before"}, data.input_shape, 10, kind,
                            {"momentum": momentum} if kind == "batch" else {})
        monitor = StatisticsMonitor(model, data.x_train)
        trainer = Trainer(model, make_optimizer({"optimizer": "sgd", "sgd_momentum": 0.9,
                                                 "precision": precision}, 0.05))
        losses = trainer.fit(data.x_train, data.y_train, 32, epochs, 0, after_epoch=monitor)
    finally:
        compat.set_dtype_policy("float32")
    return monitor.history, losses, model


def test_one_entry_per_epoch_and_bn_layer_with_the_articles_numbers():
    history, _, model = train(0.9)
    bn_names = [layer.name for layer in model.layers if "batch_normalization" in layer.name]
    assert len(bn_names) == 2
    assert [(h["epoch"], h["layer"]) for h in history] == [(e, name) for e in (1, 2, 3) for name in bn_names]
    last = history[-1]
    layer = model.get_layer(last["layer"])
    assert last["moving_mean"] == pytest.approx(float(layer.moving_mean.numpy().mean()))
    assert last["moving_variance"] == pytest.approx(float(layer.moving_variance.numpy().mean()))


def test_fast_momentum_converges_and_slow_momentum_does_not():
    fast, _, _ = train(0.9)
    slow, _, _ = train(0.999)
    fast_gap, slow_gap = (abs(h[-1]["variance_ratio"] - 1) for h in (fast, slow))
    assert fast_gap < 0.25 and slow_gap > 3 * fast_gap


def test_no_bn_layers_means_no_history():
    history, _, _ = train(0.9, epochs=1, kind="layer")
    assert history == []


def test_mixed_float16_trains_with_float16_layers_and_float32_logits():
    _, losses, model = train(0.9, epochs=1, precision="mixed_float16")
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert model.layers[2].compute_dtype == "float16" and model.output.dtype == "float32"
