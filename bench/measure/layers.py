"""Build the Keras layer for a catalog normalizer kind (see :mod:`bench.catalog`)."""

from __future__ import annotations

from typing import Callable

import keras

from bench.measure.frozen_stats_batch_norm import FrozenStatsBatchNormalization
from bench.measure.reference_batch_norm import ReferenceBatchNormalization


def _batch_norm(freeze_stats_after: int = 0, **options) -> keras.layers.Layer:
    if freeze_stats_after:
        return FrozenStatsBatchNormalization(freeze_stats_after, **options)
    return keras.layers.BatchNormalization(**options)


BUILDERS: dict[str, Callable[..., keras.layers.Layer]] = {
    "batch": _batch_norm,
    "group": lambda **o: keras.layers.GroupNormalization(**o),
    "layer": lambda **o: keras.layers.LayerNormalization(**o),
    "reference_batch": lambda **o: ReferenceBatchNormalization(**o),
    "none": lambda **o: keras.layers.Identity(),
}


def build_normalizer(kind: str, options: dict) -> keras.layers.Layer:
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise ValueError(f"no Keras builder for normalizer kind {kind!r}") from None
    return builder(**options)
