"""PreciseBN: plain averages of batch statistics replace the moving averages for one evaluation,
then the moving averages come back; a model without moving statistics is left alone."""

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow


def trained_like(kind, momentum=0.99):
    import keras

    from bench.measure.models import build_model
    from bench.measure.optimizer import make_optimizer
    from bench.measure.training import Trainer

    keras.utils.set_random_seed(0)
    model = build_model("mlp", {"widths": [8], "placement": "before"}, (4, 4, 1), 3, kind,
                        {"momentum": momentum} if kind == "batch" else {})
    training = {"optimizer": "sgd", "sgd_momentum": 0.9, "precision": "float32"}
    return Trainer(model, make_optimizer(training, 0.05))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (64, 4, 4, 1)).astype("float32")
    return x, rng.integers(0, 3, 64).astype("int32")


def test_recomputed_statistics_are_the_batch_averages_and_are_restored(monkeypatch):
    from bench.measure import precise_bn

    trainer = trained_like("batch")
    x, y = data()
    (bn,) = precise_bn.moving_statistics_layers(trainer.model)
    before = bn.moving_mean.numpy().copy()
    seen = {}
    original_predict = trainer.predict

    def predict(x_test, batch, training):  # look at the statistics the evaluation uses
        seen["mean"] = bn.moving_mean.numpy().copy()
        return original_predict(x_test, batch, training)

    monkeypatch.setattr(trainer, "predict", predict)
    accuracy, used = precise_bn.precise_bn_accuracy(trainer, x, (x, y), samples=40, batch_size=16,
                                                   eval_batch=16, seed=3)
    assert used == 32 and 0.0 <= accuracy <= 1.0  # two whole batches of 16 out of 40 samples
    # expected: the mean of the two batches' means of BN's input (the dense layer's output)
    order = np.random.default_rng(3).permutation(64)[:32]
    import keras

    dense = trainer.model.layers[[i for i, layer in enumerate(trainer.model.layers) if layer is bn][0] - 1]
    sub = keras.Model(trainer.model.inputs, dense.output)  # BN's input
    means = [sub(x[order[i:i + 16]]).numpy().mean(axis=0) for i in (0, 16)]
    np.testing.assert_allclose(seen["mean"], np.mean(means, axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), before)  # restored
    assert bn.momentum == 0.99


def test_no_moving_statistics_no_precise_bn():
    from bench.measure import precise_bn

    x, y = data()
    assert precise_bn.precise_bn_accuracy(trained_like("layer"), x, (x, y), 32, 16, 16, 0) == (None, 0)
    assert precise_bn.precise_bn_accuracy(trained_like("batch"), x, (x, y), 8, 16, 16, 0) == (None, 0)


def test_check_warns_when_precise_bn_cannot_act(write_suite):
    from bench.suite import expand, load_suite
    from bench.suite.effects import case_warnings

    suite = load_suite(write_suite("name: p\nnormalizers: {batch: {}, layer: {}}\n"
                                   "training: {precise_bn_samples: 8, batch_size: 16}\n"))
    warnings = {case.normalizer: case_warnings(case) for case in expand(suite)}
    assert warnings["layer"] == ["precise_bn_samples=8: layer keeps no moving statistics to recompute"]
    assert warnings["batch"] == ["precise_bn_samples=8 is less than one batch of 16: nothing is recomputed"]
