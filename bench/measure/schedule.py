"""The batches every backend's trainer takes: the same shuffles for the same seed, on any backend."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def epoch_orders(examples: int, batch_size: int, epochs: int, seed: int) -> Iterator[np.ndarray]:
    """Per epoch, a (steps, batch_size) array of example indices: a fresh shuffle, remainder-free.

    The partial last batch is dropped: a batch of one would make BatchNorm's variance zero and mix a
    different batch size into the measurement. Raises ValueError now (not when iterated) when the
    batch is larger than the data.
    """
    steps = examples // batch_size
    if steps < 1:
        raise ValueError(f"batch_size {batch_size} is larger than the {examples} training examples")
    rng = np.random.default_rng(seed)
    return (rng.permutation(examples)[: steps * batch_size].reshape(steps, batch_size) for _ in range(epochs))
