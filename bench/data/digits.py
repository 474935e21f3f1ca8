"""scikit-learn's 8x8 handwritten digits (1,797 images), shipped inside the package: no download."""

from __future__ import annotations

import numpy as np

from bench.data import Dataset, split, stratified_train_size

SPLIT_SEED = 1234


def load_digits(test_fraction: float = 0.25, input_scale: float = 1 / 16) -> Dataset:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images.astype(np.float32) * np.float32(input_scale))[..., np.newaxis]
    y = bunch.target.astype(np.int32)
    return split(x, y, test_fraction, SPLIT_SEED, classes=10)


load = load_digits

# Examples per class in scikit-learn's digits (checked against the real data by the tests).
CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


def train_size(options: dict) -> int:
    return stratified_train_size(CLASS_COUNTS, options["test_fraction"])


def example_shape(options: dict) -> tuple[int, ...]:
    return (8, 8, 1)
