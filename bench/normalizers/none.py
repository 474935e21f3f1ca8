"""No normalization: the baseline every normalizer should beat (the layer before keeps its bias)."""

from __future__ import annotations

from bench.normalizers import NormalizerKind, register


def build():
    import keras

    return keras.layers.Identity()


KIND = register(NormalizerKind("none", {}, "no normalization: the baseline", build, keeps_bias=True))
