"""Build the Keras layer of a normalizer kind (the registry in :mod:`bench.normalizers`)."""

from __future__ import annotations

from bench.measure import compat
from bench.normalizers import NORMALIZERS


def build_normalizer(kind: str, options: dict):
    try:
        builder = NORMALIZERS[kind].build
    except KeyError:
        raise ValueError(f"no normalizer kind {kind!r} (known: {', '.join(NORMALIZERS)})") from None
    return builder(**options)


def build_by_calling(layer, shape) -> None:
    """Build ``layer`` through ``__call__`` in inference mode (statistics untouched). Keras 2's
    BatchNormalization computes wrong training-mode outputs after a direct ``build(shape)``
    (observed with TF 2.15: per-channel mean and scale right, elements wrong); a call builds it
    the way a model does."""
    layer(compat.zeros(shape), training=False)
