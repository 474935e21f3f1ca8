"""The three ways to treat BatchNorm when fine-tuning on new data (``training.fine_tune_bn``).

- ``trainable``: everything learns; BN normalizes with the new data's batch statistics and its
  moving averages drift to the new data.
- ``frozen``: the article's advice, ``layer.trainable = False``. In Keras (2 and 3) a frozen BN layer
  also runs in inference mode, so gamma, beta and the moving averages all keep their pre-trained
  values.
- ``frozen_training_mode``: gamma and beta are left out of the update, but the layer still runs in
  training mode: batch statistics and moving averages follow the new data. This is what freezing
  "the weights" by hand, or TF 1.x's ``trainable=False``, gives.
"""

from __future__ import annotations

import keras

from bench.measure.statistics_monitor import batch_norm_layers


def prepare_batch_norm(model: keras.Model, mode: str) -> list:
    """Apply ``mode`` to every BN layer of ``model``; returns the variables fine-tuning updates."""
    layers = batch_norm_layers(model)
    if mode == "trainable":
        return list(model.trainable_variables)
    if mode == "frozen":
        for layer in layers:
            layer.trainable = False
        return list(model.trainable_variables)
    if mode == "frozen_training_mode":
        held = {id(v) for layer in layers for v in layer.trainable_variables}
        return [v for v in model.trainable_variables if id(v) not in held]
    raise ValueError(f"unknown fine_tune_bn mode {mode!r}")
