"""Datasets: scikit-learn's bundled digits, seeded synthetic images, MNIST-1D (no download) and a
user's own ``.npz`` file."""

from __future__ import annotations

from dataclasses import dataclass

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


def load_dataset(name: str, options: dict) -> Dataset:
    """Build a dataset by catalog name; the split never depends on the case's seed, so every case of
    a suite is trained and tested on the same examples."""
    if name == "digits":
        from bench.data.digits import load_digits

        return load_digits(**options)
    if name == "synthetic":
        from bench.data.synthetic import make_synthetic

        return make_synthetic(**options)
    if name == "npz":
        from bench.data.npz import load_npz

        return load_npz(**options)
    if name == "mnist1d":
        from bench.data.mnist1d import load_mnist1d

        return load_mnist1d(**options)
    raise ValueError(f"unknown dataset {name!r}")


# Examples per class in scikit-learn's digits (checked against the real data by the tests).
DIGITS_CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


def train_size(name: str, options: dict) -> int:
    """How many training examples ``load_dataset(name, options)`` yields, without building it, so a
    suite can be checked before anything runs. Mirrors :func:`split`'s per-class rounding."""
    if name == "digits":
        counts = DIGITS_CLASS_COUNTS
    elif name == "synthetic":
        samples, classes = options["samples"], options["classes"]
        counts = [samples // classes + (1 if c < samples % classes else 0) for c in range(classes)]
    elif name == "mnist1d":
        from bench.data.mnist1d import train_size as mnist1d_train_size

        return mnist1d_train_size(options["samples"], options["test_fraction"])
    elif name == "npz":  # split by the file itself
        from bench.data.npz import read_checked

        return len(read_checked(options["path"], options["classes"])[1])
    else:
        raise ValueError(f"unknown dataset {name!r}")
    return sum(n - int(round(n * options["test_fraction"])) for n in counts)


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


def example_shape(name: str, options: dict) -> tuple[int, ...]:
    """One example's shape without building the dataset (a suite's model is checked against it)."""
    if name == "digits":
        return (8, 8, 1)
    if name == "synthetic":
        return (options["image_size"], options["image_size"], options["channels"])
    if name == "mnist1d":
        return (40, 1)
    if name == "npz":
        from bench.data.npz import read_checked

        return tuple(read_checked(options["path"], options["classes"])[0].shape[1:])
    raise ValueError(f"unknown dataset {name!r}")
