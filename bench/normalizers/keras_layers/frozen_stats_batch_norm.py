"""BatchNorm whose statistics stop moving after a warm-up: the small-batch remedy of estimating
statistics early and then normalizing with fixed ones (as detection models do with frozen BN).

For the first ``freeze_after`` training calls it is ordinary BN (batch statistics, moving averages
updated). After that, training calls normalize with the moving averages and leave them alone, so
the per-example output no longer depends on the rest of the batch; gamma and beta still learn.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class FrozenStatsBatchNormalization(keras.layers.BatchNormalization):
    def __init__(self, freeze_after: int, **kwargs):
        super().__init__(**kwargs)
        self.freeze_after = freeze_after

    def build(self, input_shape):
        super().build(input_shape)
        self.training_calls = self.add_weight(name="training_calls", shape=(), dtype="int32",
                                              initializer="zeros", trainable=False)

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable):
            return super().call(inputs, training=False, mask=mask)
        parent_call = super().call

        def live():
            self.training_calls.assign_add(1)
            return parent_call(inputs, training=True, mask=mask)

        return tf.cond(self.training_calls < self.freeze_after, live,
                        lambda: parent_call(inputs, training=False, mask=mask))

    def get_config(self):
        return {**super().get_config(), "freeze_after": self.freeze_after}
