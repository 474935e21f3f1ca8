"""The article's BN monitoring callback, made quantitative: after each epoch, each BN layer's moving
averages next to the statistics they are meant to estimate.

The article prints the channel-mean of ``moving_mean`` and ``moving_variance``. Those numbers alone
cannot say whether the averages have converged, so the monitor also computes the population mean
and variance of the layer's input over the whole training set (the rest of the model in inference
mode) and records two scale-free gaps: the mean error in population standard deviations, and the
ratio of moving to population variance (1 when converged).
"""

from __future__ import annotations

import keras
import numpy as np

from bench.core.metrics import statistics_gaps


def batch_norm_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers that keep moving averages (Keras BN, its subclasses and the reference BN)."""
    return [layer for layer in model.layers if hasattr(layer, "moving_mean") and hasattr(layer, "moving_variance")]


class StatisticsMonitor:
    """Called after each epoch (a trainer's ``after_epoch``): appends one history entry per BN layer.

    One probe model returns every BN layer's input, called on large slices of the training set:
    a probe per layer over 256-sample slices made the monitor cost more than the training it
    watched (eager calls, about 2.7 ms per layer call here)."""

    def __init__(self, model: keras.Model, x_train: np.ndarray, batch_size: int = 4096):
        self.layers = batch_norm_layers(model)
        self.probe = keras.Model(model.input, [layer.input for layer in self.layers]) if self.layers else None
        self.x_train = x_train
        self.batch_size = batch_size
        self.history: list[dict] = []

    def __call__(self, epoch: int) -> None:
        if self.probe is None:
            return
        slices = [self.probe(self.x_train[i:i + self.batch_size], training=False)
                  for i in range(0, len(self.x_train), self.batch_size)]
        for index, layer in enumerate(self.layers):
            inputs = np.concatenate([np.asarray(outputs[index], np.float64) for outputs in slices])
            inputs = inputs.reshape(-1, inputs.shape[-1])
            moving_mean = layer.moving_mean.numpy().astype(np.float64)
            moving_variance = layer.moving_variance.numpy().astype(np.float64)
            mean_error, variance_ratio = statistics_gaps(moving_mean, moving_variance,
                                                         inputs.mean(axis=0), inputs.var(axis=0))
            self.history.append({
                "epoch": epoch + 1, "layer": layer.name,
                "moving_mean": float(moving_mean.mean()), "moving_variance": float(moving_variance.mean()),
                "mean_error": mean_error, "variance_ratio": variance_ratio,
            })
