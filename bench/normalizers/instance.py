"""InstanceNorm (Ulyanov et al., 2016): each example's each channel over its spatial positions."""

from __future__ import annotations

from bench.core.params import Param
from bench.normalizers import EPSILON, NormalizerKind, register, tensorflow_implementation


def build(implementation: str = "keras", **options):
    import keras

    if implementation == "reference":
        from bench.normalizers.keras_layers.reference_norms import ReferenceInstanceNormalization

        return ReferenceInstanceNormalization(**options)
    return keras.layers.GroupNormalization(groups=-1, **options)


KIND = register(NormalizerKind(
    "instance",
    {
        "epsilon": EPSILON,
        "center": Param(bool, True),
        "scale": Param(bool, True),
        "implementation": Param(str, "keras", choices=("keras", "reference"),
                                help="keras.layers.GroupNormalization(groups=-1), or this project's reference"),
    },
    "InstanceNorm: each example's each channel over its spatial positions (GroupNorm with one channel "
    "per group); on an MLP's (batch, features) input every value is alone and the output is beta",
    build, unsupported=tensorflow_implementation))
