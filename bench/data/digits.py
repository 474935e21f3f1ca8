"""scikit-learn's 8x8 handwritten digits (1,797 images), shipped inside the package: no download."""

from __future__ import annotations

import numpy as np

from bench.data import Dataset, split

SPLIT_SEED = 1234


def load_digits(test_fraction: float = 0.25, input_scale: float = 1 / 16) -> Dataset:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images.astype(np.float32) * np.float32(input_scale))[..., np.newaxis]
    y = bunch.target.astype(np.int32)
    return split(x, y, test_fraction, SPLIT_SEED, classes=10)
