"""DyT, Dynamic Tanh (Zhu, Chen, He, LeCun & Liu, "Transformers without Normalization", CVPR 2025).

``y = gamma * tanh(alpha * x) + beta``: ``alpha`` is one learned scalar (initialised at
``alpha_init``, the paper's default 0.5), ``gamma`` (ones) and ``beta`` (zeros) are per-channel
vectors over the last axis. No statistics at all: each value is squashed on its own, so training
and inference compute the same thing and the output does not depend on the rest of the batch. It
has beta, so the layer before it keeps no bias. The layer is written with ``keras.ops`` and runs on
every Keras 3 backend; on Keras 2 (the legacy environment) a case of this kind is skipped.
"""

from __future__ import annotations

import functools

import numpy as np

from bench.core.errors import ImplementationUnavailable
from bench.core.params import Param, positive
from bench.normalizers import NormalizerKind, register


def reference(x, alpha, gamma, beta):
    """The paper's pseudocode (Algorithm 1) in NumPy: ``x = tanh(alpha * x); return gamma * x + beta``."""
    x = np.tanh(alpha * np.asarray(x, dtype=np.float64))
    return np.asarray(gamma, dtype=np.float64) * x + np.asarray(beta, dtype=np.float64)


@functools.cache
def layer_class():
    """The Keras layer, defined on first use so that importing this module imports no framework."""
    import keras

    @keras.saving.register_keras_serializable(package="normbench")
    class DynamicTanh(keras.layers.Layer):
        def __init__(self, alpha_init: float = 0.5, **kwargs):
            super().__init__(**kwargs)
            self.alpha_init = float(alpha_init)

        def build(self, input_shape):
            channels = (input_shape[-1],)
            self.alpha = self.add_weight(name="alpha", shape=(),
                                         initializer=keras.initializers.Constant(self.alpha_init))
            self.gamma = self.add_weight(name="gamma", shape=channels, initializer="ones")
            self.beta = self.add_weight(name="beta", shape=channels, initializer="zeros")

        def call(self, inputs):
            return self.gamma * keras.ops.tanh(self.alpha * inputs) + self.beta

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "alpha_init": self.alpha_init}

    return DynamicTanh


def build(alpha_init: float = 0.5):
    import keras

    if not hasattr(keras, "ops"):
        raise ImplementationUnavailable(f"DyT is written with keras.ops, which needs Keras 3; this stack has "
                                        f"Keras {keras.__version__}")
    return layer_class()(alpha_init=alpha_init)


KIND = register(NormalizerKind(
    "dyt",
    {"alpha_init": Param(float, 0.5, positive, help="the learned scalar alpha's initial value (the paper's 0.5)")},
    "DyT (Dynamic Tanh): gamma * tanh(alpha * x) + beta, one learned scalar alpha, no statistics "
    "(transformers without normalization)",
    build, reference=reference))
