"""PreciseBN (Wu & Johnson, 2021, "Rethinking 'Batch' in BatchNorm"; fvcore's ``update_bn_stats``):
after training, replace every BatchNorm layer's moving averages by plain averages of batch
statistics over N training samples, weights untouched, then test in inference mode.

An exponential moving average with momentum 0.99 remembers about the last 100 steps, mixing in
statistics of weights that have since changed (or, after a short run, the initial zeros and ones).
Setting the momentum to k/(k+1) before the k-th batch turns the layer's own update into the
cumulative mean of the batch means and batch variances. Keras averages the *biased* batch variance
(Keras 3; the fused Keras 2 kernel the unbiased one), and so does this: the record says which.
The original moving averages are restored afterwards, so every other field is unchanged.
"""

from __future__ import annotations

import numpy as np

from bench.measure import compat


def moving_statistics_layers(model) -> list:
    """Every layer that keeps moving averages (Keras BN, the reference BN), in nested models too;
    a BN whose statistics froze during training (freeze_stats_after) is left as it is."""
    found, stack = [], list(model.layers)
    while stack:
        layer = stack.pop(0)
        stack[:0] = list(getattr(layer, "layers", []))
        if all(hasattr(layer, name) for name in ("moving_mean", "moving_variance", "momentum")) \
                and not hasattr(layer, "freeze_after"):
            found.append(layer)
    return found


def precise_bn_accuracy(trainer, x_train, y_test_pair, samples: int, batch_size: int, eval_batch: int,
                        seed: int) -> tuple[float | None, int]:
    """(inference accuracy with recomputed statistics, samples actually used); (None, 0) when the
    model has no moving statistics or ``samples`` holds no full batch."""
    from bench.core import metrics

    layers = moving_statistics_layers(trainer.model)
    order = np.random.default_rng(seed).permutation(len(x_train))[:samples]
    batches = [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    if not layers or not batches:
        return None, 0
    saved = [(layer.momentum, layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in layers]
    try:
        for k, idx in enumerate(batches):
            for layer in layers:
                layer.momentum = k / (k + 1)  # 0 first: the moving value becomes this batch's statistic
            trainer.model(x_train[idx], training=True)  # eager: momentum is read at call time
        x_test, y_test = y_test_pair
        accuracy = metrics.accuracy(trainer.predict(x_test, eval_batch, False), y_test)
    finally:
        for layer, (momentum, mean, variance) in zip(layers, saved):
            layer.momentum = momentum
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
    return accuracy, len(batches) * batch_size


def bessel_corrected() -> bool:
    """Whether the averaged batch variances are unbiased (n - 1): Keras 2's fused kernel, not Keras 3."""
    return not compat.KERAS_3
