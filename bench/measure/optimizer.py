"""The suite's optimizer, built the same way for every backend."""

from __future__ import annotations

import keras

from bench.measure import compat


def make_optimizer(training: dict, learning_rate: float) -> keras.optimizers.Optimizer:
    """The suite's optimizer; under ``mixed_float16`` wrapped in dynamic loss scaling, as
    ``model.fit`` would do, so small float16 gradients do not flush to zero."""
    if training["optimizer"] == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=learning_rate, momentum=training["sgd_momentum"])
    if training["precision"] == "mixed_float16":
        return compat.loss_scale_optimizer(optimizer)
    return optimizer
