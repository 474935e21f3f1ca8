"""Datasets: scikit-learn's bundled digits (as they are, or rendered as 32x32 colour scenes),
seeded synthetic images, MNIST-1D (no download), a user's own ``.npz`` file and Keras's dataset cache.

Each dataset is one module registered in ``MODULES`` (and its options in ``bench.suite.catalog.DATASETS``).
A module provides ``load(**options) -> Dataset``, ``train_size(options)`` and
``example_shape(options)`` (both without building the data, so a suite is checked before anything
runs), and may provide ``check(options, folder) -> options``: files resolved against the suite's
folder and checked when the suite loads (ValueError with one line, reported against the option
``CHECKED_FIELD``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """NHWC float32 images and int32 labels, split once with a fixed seed."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def shifted(self, gain: float, offset: float) -> "Dataset":
        """The same examples and labels under a pixel-wise affine shift ``x * gain + offset``: a
        new input distribution for fine-tuning (gain -1, offset 1 inverts [0, 1] images)."""
        gain, offset = np.float32(gain), np.float32(offset)
        return Dataset(self.x_train * gain + offset, self.y_train, self.x_test * gain + offset,
                       self.y_test, self.classes)


MODULES = {
    "digits": "bench.data.digits",
    "synthetic": "bench.data.synthetic",
    "digit_scenes": "bench.data.digit_scenes",
    "mnist1d": "bench.data.mnist1d",
    "npz": "bench.data.npz",
    "keras": "bench.data.keras_cache",
}


def _module(name: str):
    if name not in MODULES:
        raise ValueError(f"unknown dataset {name!r}")
    return importlib.import_module(MODULES[name])


def load_dataset(name: str, options: dict) -> Dataset:
    """Build a dataset by catalog name; the split never depends on the case's seed, so every case of
    a suite is trained and tested on the same examples."""
    return _module(name).load(**options)


def train_size(name: str, options: dict) -> int:
    """How many training examples ``load_dataset(name, options)`` yields, without building it."""
    return _module(name).train_size(options)


def example_shape(name: str, options: dict) -> tuple[int, ...]:
    """One example's shape without building the dataset (a suite's model is checked against it)."""
    return tuple(_module(name).example_shape(options))


def check_options(name: str, options: dict, folder: Path) -> dict:
    """The options with the dataset's files resolved and checked (ValueError: one line)."""
    module = _module(name)
    return module.check(options, folder) if hasattr(module, "check") else options


def checked_field(name: str) -> str:
    """The option a problem found by ``check`` is reported against (``dataset.<field>``)."""
    return getattr(_module(name), "CHECKED_FIELD", "name")


def stratified_train_size(counts, test_fraction: float) -> int:
    """Training examples :func:`split` keeps from classes of ``counts`` examples (its rounding)."""
    return sum(n - int(round(n * test_fraction)) for n in counts)


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, classes: int) -> Dataset:
    """A stratified split (each class keeps its share in train and test)."""
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for label in range(classes):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(len(idx) * test_fraction))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train_idx))
    test = np.sort(np.concatenate(test_idx))
    return Dataset(x[train], y[train], x[test], y[test], classes)
