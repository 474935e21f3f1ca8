"""The TensorFlow backend's trainer: per-step losses kept, evaluation in both BatchNorm modes.

Each epoch runs inside one ``tf.function`` (a ``tf.range`` loop over pre-shuffled index batches),
so tiny batch sizes measure the model, not Python's per-call overhead. The loss of every step is
kept so NaN incidence counts steps, not epochs.
"""

from __future__ import annotations

import logging
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from bench.measure import compat
from bench.measure.schedule import epoch_orders

# Every case builds a new model and so traces new functions; TensorFlow's "excessive retracing"
# warning counts those across instances and would fire on every run for no fault of the case.
tf.get_logger().setLevel(logging.ERROR)


class Trainer:
    """Owns the traced step functions of one model, so training and timing share one trace.

    ``variables`` (default: all trainable ones) are the weights the optimizer updates.
    """

    reuses_steps = True  # bench.measure.warm_models may give its traces to the next seed's case

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer, variables=None):
        self.model = model
        self.optimizer = optimizer
        self.variables = list(model.trainable_variables if variables is None else variables)
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        compat.build_optimizer(optimizer, self.variables)
        self.train_step = tf.function(self._train_step)
        # reduce_retracing: the last evaluation batch is smaller; one generalized trace covers both
        self.predict_step = tf.function(self._predict_step, reduce_retracing=True)
        self._run_epoch = tf.function(self._epoch)

    def _train_step(self, x, y):
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)
            loss = tf.cast(self.loss_fn(y, logits), tf.float32)
            scaled = compat.scale_loss(self.optimizer, loss)
        grads = tape.gradient(scaled, self.variables)
        compat.apply_gradients(self.optimizer, grads, self.variables)
        return loss

    def _predict_step(self, x, training):
        return tf.argmax(self.model(x, training=training), axis=-1, output_type=tf.int32)

    def _epoch(self, x, y, batches):
        losses = tf.TensorArray(tf.float32, size=tf.shape(batches)[0])
        for i in tf.range(tf.shape(batches)[0]):
            idx = batches[i]
            losses = losses.write(i, self.train_step(tf.gather(x, idx), tf.gather(y, idx)))
        return losses.stack()

    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, seed: int,
            after_epoch: Callable[[int], None] | None = None) -> np.ndarray:
        """Train with a remainder-free shuffle per epoch; returns every step's loss in order.
        ``after_epoch(epoch)`` is called after each epoch (the statistics monitor). The batches are
        :func:`bench.measure.schedule.epoch_orders`' (the partial last batch dropped).
        """
        orders = epoch_orders(len(x), batch_size, epochs, seed)
        x_t, y_t = tf.constant(x), tf.constant(y)
        losses = []
        for epoch, order in enumerate(orders):
            losses.append(self._run_epoch(x_t, y_t, tf.constant(order, tf.int32)).numpy())
            if after_epoch is not None:
                after_epoch(epoch)
        return np.concatenate(losses)

    def predict(self, x: np.ndarray, batch_size: int, training: bool) -> np.ndarray:
        """Class predictions in batches of ``batch_size``; ``training=True`` is the article's mistake
        of evaluating with batch statistics (it also moves BN's moving averages, so call it last)."""
        out = [self.predict_step(tf.constant(x[i:i + batch_size]), training).numpy()
               for i in range(0, len(x), batch_size)]
        return np.concatenate(out)

    def step_functions(self, x: np.ndarray, y: np.ndarray) -> dict:
        """The timed calls: one training step and one inference-mode prediction on (x, y), each
        returning when the device is done (``.numpy()`` waits for the result)."""
        x, y = tf.constant(x), tf.constant(y)
        return {"train": lambda: self.train_step(x, y).numpy(),
                "infer": lambda: self.predict_step(x, False).numpy()}

    def variables_changed(self) -> None:
        """Nothing to do: the traced steps read the model's variables themselves."""

    def weights_finite(self) -> bool:
        return all(bool(np.isfinite(w.numpy()).all()) for w in self.model.weights)
