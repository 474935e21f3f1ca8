"""Build the Keras layer for a catalog normalizer kind (see :mod:`bench.catalog`)."""

from __future__ import annotations

from typing import Callable

import keras

from bench.errors import ImplementationUnavailable
from bench.measure import compat

# The reference, frozen-statistics and tensorflow-addons layers are TensorFlow code: imported only
# when a case asks for them, so workers of other Keras backends never import TensorFlow.


def _batch_norm(freeze_stats_after: int = 0, implementation: str = "keras", renorm: bool = False,
                renorm_rmax: float = 3.0, renorm_dmax: float = 5.0, renorm_momentum: float = 0.99,
                **options) -> keras.layers.Layer:
    if renorm:
        if implementation == "reference":
            from bench.measure.reference_batch_norm import ReferenceBatchNormalization

            return ReferenceBatchNormalization(renorm=True, renorm_rmax=renorm_rmax, renorm_dmax=renorm_dmax,
                                               renorm_momentum=renorm_momentum, **options)
        options.update(renorm=True, renorm_momentum=renorm_momentum,
                       renorm_clipping={"rmax": renorm_rmax, "rmin": 1 / renorm_rmax, "dmax": renorm_dmax})
    if implementation == "reference":
        if freeze_stats_after:
            raise ValueError("freeze_stats_after is implemented for the Keras BatchNorm only")
        from bench.measure.reference_batch_norm import ReferenceBatchNormalization

        return ReferenceBatchNormalization(**options)
    if freeze_stats_after:
        from bench.measure.frozen_stats_batch_norm import FrozenStatsBatchNormalization

        return FrozenStatsBatchNormalization(freeze_stats_after, **options)
    return keras.layers.BatchNormalization(**options)


def _group_norm(implementation: str = "keras", **options) -> keras.layers.Layer:
    if implementation == "tfa":
        from bench.measure.addons import tfa_group_normalization

        return tfa_group_normalization(**options)
    return keras.layers.GroupNormalization(**options)


def _rms_norm(implementation: str = "keras", **options) -> keras.layers.Layer:
    if implementation == "reference":
        from bench.measure.reference_norms import ReferenceRMSNormalization

        return ReferenceRMSNormalization(**options)
    if not hasattr(keras.layers, "RMSNormalization"):
        raise ImplementationUnavailable(f"keras.layers.RMSNormalization needs Keras 3.9 or later; this stack has "
                                        f"Keras {keras.__version__}")
    return keras.layers.RMSNormalization(**options)


def _instance_norm(implementation: str = "keras", **options) -> keras.layers.Layer:
    if implementation == "reference":
        from bench.measure.reference_norms import ReferenceInstanceNormalization

        return ReferenceInstanceNormalization(**options)
    return keras.layers.GroupNormalization(groups=-1, **options)


def _user_layer(factory: str, factory_path: str | None = None, **options) -> keras.layers.Layer:
    """The user's own normalization layer (``factory`` kind): ``factory(**options)`` from their module."""
    from bench.suite.user_code import load_object

    layer = load_object(factory, factory_path)(**options)
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"{factory}(**options) returned {type(layer).__name__}, not a Keras layer")
    return layer


BUILDERS: dict[str, Callable[..., keras.layers.Layer]] = {
    "factory": _user_layer,
    "batch": _batch_norm,
    "rms": _rms_norm,
    "instance": _instance_norm,
    "group": _group_norm,
    "layer": lambda **o: keras.layers.LayerNormalization(**o),
    "reference_batch": lambda **o: _batch_norm(implementation="reference", **o),
    "none": lambda **o: keras.layers.Identity(),
}


def build_normalizer(kind: str, options: dict) -> keras.layers.Layer:
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise ValueError(f"no Keras builder for normalizer kind {kind!r}") from None
    return builder(**options)


def build_by_calling(layer, shape) -> None:
    """Build ``layer`` through ``__call__`` in inference mode (statistics untouched). Keras 2's
    BatchNormalization computes wrong training-mode outputs after a direct ``build(shape)``
    (observed with TF 2.15: per-channel mean and scale right, elements wrong); a call builds it
    the way a model does."""
    layer(compat.zeros(shape), training=False)
