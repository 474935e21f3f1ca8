"""Build the Keras layer for a catalog normalizer kind (see :mod:`bench.catalog`)."""

from __future__ import annotations

from typing import Callable

import keras

from bench.measure.reference_batch_norm import ReferenceBatchNormalization

BUILDERS: dict[str, Callable[..., keras.layers.Layer]] = {
    "batch": lambda **o: keras.layers.BatchNormalization(**o),
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
