"""RMSNorm (Zhang & Sennrich, 2019): features divided by their root mean square, one learned scale."""

from __future__ import annotations

from bench.core.errors import ImplementationUnavailable
from bench.core.params import Param, positive
from bench.normalizers import NormalizerKind, register, tensorflow_implementation


def build(implementation: str = "keras", **options):
    import keras

    if implementation == "reference":
        from bench.normalizers.keras_layers.reference_norms import ReferenceRMSNormalization

        return ReferenceRMSNormalization(**options)
    if not hasattr(keras.layers, "RMSNormalization"):
        raise ImplementationUnavailable(f"keras.layers.RMSNormalization needs Keras 3.9 or later; this stack has "
                                        f"Keras {keras.__version__}")
    return keras.layers.RMSNormalization(**options)


KIND = register(NormalizerKind(
    "rms",
    {
        "epsilon": Param(float, 1e-6, positive, help="added to the mean square (Keras's default 1e-6)"),
        "implementation": Param(str, "keras", choices=("keras", "reference"),
                                help="keras.layers.RMSNormalization (Keras 3.9+), or this project's reference"),
    },
    "keras.layers.RMSNormalization: features divided by their root mean square, one learned scale, "
    "no centring (transformers' normalizer)",
    build, unsupported=tensorflow_implementation))
