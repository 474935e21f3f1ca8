"""LayerNorm (Ba, Kiros & Hinton, 2016): each example normalized over its channels."""

from __future__ import annotations

from bench.core.params import Param
from bench.normalizers import EPSILON, NormalizerKind, register


def build(**options):
    import keras

    return keras.layers.LayerNormalization(**options)


KIND = register(NormalizerKind(
    "layer",
    {"epsilon": EPSILON, "center": Param(bool, True), "scale": Param(bool, True)},
    "keras.layers.LayerNormalization over the channel axis",
    build))
