"""BatchNorm written from the formula in the source article, as a check on Keras's layer.

    y = gamma * (x - mean) / sqrt(variance + epsilon) + beta

Training mode uses the batch's mean and (biased) variance over every axis but the last, and moves
the moving averages: ``moving = momentum * moving + (1 - momentum) * batch_statistic``. Inference
mode uses the moving averages. (Ioffe & Szegedy, 2015, "Batch Normalization", Algorithm 1.)

With ``renorm`` (Batch Renormalization, Ioffe 2017, Algorithm 1): with sigma_B = sqrt(var_B + eps),
training computes ``r = clip(sigma_B / sigma, 1/rmax, rmax)`` and ``d = clip((mu_B - mu) / sigma,
-dmax, dmax)`` (no gradient through either) and outputs ``gamma * ((x - mu_B) / sigma_B * r + d) +
beta``; mu and sigma (a moving *standard deviation*) move towards mu_B and sigma_B. The paper uses
one pair mu, sigma (moved with ``momentum``) for r, d and inference, as this layer does; Keras
keeps a second pair for r and d, moved with ``renorm_momentum``: with ``renorm_momentum ==
momentum`` the two coincide, which is how the tests compare them. Inference: ``gamma * (x - mu) /
sigma + beta``, read through a moving variance derived as sigma^2 - epsilon, as Keras stores it.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class ReferenceBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, renorm: bool = False, renorm_rmax: float = 3.0, renorm_dmax: float = 5.0,
                 renorm_momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.renorm, self.renorm_rmax, self.renorm_dmax = renorm, renorm_rmax, renorm_dmax
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(name="gamma", shape=channels, initializer="ones", trainable=self.scale)
        self.beta = self.add_weight(name="beta", shape=channels, initializer="zeros", trainable=self.center)
        self.moving_mean = self.add_weight(name="moving_mean", shape=channels, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=channels, initializer="ones",
                                               trainable=False)
        if self.renorm:  # the paper's moving sigma; moving_variance is derived from it after each step
            self.moving_stddev = self.add_weight(name="moving_stddev", shape=channels, initializer="ones",
                                                 trainable=False)

    def call(self, inputs, training=None):
        if self.renorm:
            return self._renorm_call(inputs, training)
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

    def _renorm_call(self, inputs, training):
        if not (training and self.trainable):
            return (inputs - self.moving_mean) / tf.sqrt(self.moving_variance + self.epsilon) * self.gamma + self.beta
        axes = list(range(len(inputs.shape) - 1))
        mean = tf.reduce_mean(inputs, axis=axes)
        sigma_batch = tf.sqrt(tf.reduce_mean(tf.square(inputs - mean), axis=axes) + self.epsilon)
        sigma = tf.maximum(self.moving_stddev, tf.sqrt(self.epsilon))
        r = tf.stop_gradient(tf.clip_by_value(sigma_batch / sigma, 1 / self.renorm_rmax, self.renorm_rmax))
        d = tf.stop_gradient(tf.clip_by_value((mean - self.moving_mean) / sigma, -self.renorm_dmax,
                                              self.renorm_dmax))
        alpha = 1 - self.momentum
        self.moving_mean.assign(self.moving_mean + alpha * (mean - self.moving_mean))
        self.moving_stddev.assign(self.moving_stddev + alpha * (sigma_batch - self.moving_stddev))
        # inference reads a variance, as plain BN does: sqrt(variance + epsilon) is the moving sigma again
        self.moving_variance.assign(tf.nn.relu(tf.square(self.moving_stddev) - self.epsilon))
        return ((inputs - mean) / sigma_batch * r + d) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "renorm": self.renorm,
                "renorm_rmax": self.renorm_rmax, "renorm_dmax": self.renorm_dmax,
                "renorm_momentum": self.renorm_momentum}
