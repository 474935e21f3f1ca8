"""BatchNorm written from the formula in the source article, as a check on Keras's layer.

    y = gamma * (x - mean) / sqrt(variance + epsilon) + beta

Training mode uses the batch's mean and (biased) variance over every axis but the last, and moves
the moving averages: ``moving = momentum * moving + (1 - momentum) * batch_statistic``. Inference
mode uses the moving averages. (Ioffe & Szegedy, 2015, "Batch Normalization", Algorithm 1.)
"""

from __future__ import annotations

import keras
import tensorflow as tf


class ReferenceBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(name="gamma", shape=channels, initializer="ones", trainable=self.scale)
        self.beta = self.add_weight(name="beta", shape=channels, initializer="zeros", trainable=self.center)
        self.moving_mean = self.add_weight(name="moving_mean", shape=channels, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=channels, initializer="ones",
                                               trainable=False)

    def call(self, inputs, training=None):
        if training and self.trainable:  # like Keras: a frozen BN layer runs in inference mode
            axes = list(range(len(inputs.shape) - 1))
            mean = tf.reduce_mean(inputs, axis=axes)
            variance = tf.reduce_mean(tf.square(inputs - mean), axis=axes)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(
                self.momentum * self.moving_variance + (1 - self.momentum) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        normalized = (inputs - mean) / tf.sqrt(variance + self.epsilon)
        return normalized * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
