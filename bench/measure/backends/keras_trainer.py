"""What the JAX and PyTorch trainers share: the loss, the optimizer's slots, the weight check."""

from __future__ import annotations

import keras
import numpy as np

from bench.core.errors import ImplementationUnavailable
from bench.measure import compat


class KerasTrainer:
    """Base of a non-TensorFlow trainer; subclasses add ``fit``, ``predict`` and ``step_functions``
    with the meaning of :class:`bench.measure.training.Trainer`'s."""

    def __init__(self, model: keras.Model, optimizer, variables=None):
        if variables is not None:
            raise ImplementationUnavailable("fine-tuning a subset of the weights runs on the TensorFlow backend only")
        self.model, self.optimizer = model, optimizer
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer.build(model.trainable_variables)

    reuses_steps = False  # bench.measure.warm_models: a subclass with compiled steps to keep says so

    def variables_changed(self) -> None:
        """The model's or optimizer's variables were overwritten (bench.measure.warm_models)."""

    def weights_finite(self) -> bool:
        return all(bool(np.isfinite(compat.to_numpy(w)).all()) for w in self.model.weights)
