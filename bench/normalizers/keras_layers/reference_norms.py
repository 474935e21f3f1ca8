"""RMSNorm and InstanceNorm written from their papers' formulas, as checks on the Keras layers
normbench times (the way ``reference_batch_norm`` checks Keras's BatchNormalization).

- RMSNorm (Zhang & Sennrich, 2019): ``y = x / sqrt(mean(x^2 over the features) + epsilon) * g``;
  no mean subtraction and no bias, so it is LayerNorm without centring.
- InstanceNorm (Ulyanov et al., 2016): each example's each channel normalized over its spatial
  positions, ``y = gamma * (x - mean_hw) / sqrt(var_hw + epsilon) + beta``; training and inference
  compute the same thing (no moving statistics). On a 2-D (batch, features) input there are no
  spatial positions: every value is its own group and the output is beta.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class ReferenceRMSNormalization(keras.layers.Layer):
    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs, training=None):
        mean_square = tf.reduce_mean(tf.square(inputs), axis=-1, keepdims=True)
        return inputs * tf.math.rsqrt(mean_square + self.epsilon) * self.scale

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class ReferenceInstanceNormalization(keras.layers.Layer):
    def __init__(self, epsilon: float = 1e-3, center: bool = True, scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.center, self.scale = epsilon, center, scale

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(name="gamma", shape=channels, initializer="ones", trainable=self.scale)
        self.beta = self.add_weight(name="beta", shape=channels, initializer="zeros", trainable=self.center)

    def call(self, inputs, training=None):
        spatial = list(range(1, len(inputs.shape) - 1))
        if spatial:
            mean, variance = tf.nn.moments(inputs, axes=spatial, keepdims=True)
        else:  # (batch, features): each value is alone in its group
            mean, variance = inputs, tf.zeros_like(inputs)
        return (inputs - mean) * tf.math.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
