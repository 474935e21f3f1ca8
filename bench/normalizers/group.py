"""GroupNorm (Wu & He, 2018): per-example statistics over groups of channels."""

from __future__ import annotations

from bench.core.params import Param, at_least
from bench.normalizers import EPSILON, NormalizerKind, register, tensorflow_implementation


def build(implementation: str = "keras", **options):
    import keras

    if implementation == "tfa":
        from bench.normalizers.keras_layers.addons import tfa_group_normalization

        return tfa_group_normalization(**options)
    return keras.layers.GroupNormalization(**options)


KIND = register(NormalizerKind(
    "group",
    {
        "groups": Param(int, 4, at_least(1), help="must divide every normalized layer's width"),
        "epsilon": EPSILON,
        "center": Param(bool, True),
        "scale": Param(bool, True),
        "implementation": Param(str, "keras", choices=("keras", "tfa"),
                                help="keras.layers.GroupNormalization, or tensorflow-addons' (legacy "
                                     "environment only)"),
    },
    "keras.layers.GroupNormalization: per-sample statistics over channel groups",
    build, unsupported=tensorflow_implementation))
