"""MNIST-1D (Greydanus, 2020): 40-point 1-D signals of ten digit templates, shifted, scaled, sheared
and noised; generated locally with numpy by the ``mnist1d`` package (no download). Harder than the
8x8 digits: the paper's MLP reaches about 68% and its CNN about 94%, so normalizers have room to
differ. Examples are (40, 1): a sequence with one channel (the CNN then uses 1-D convolutions)."""

from __future__ import annotations

import numpy as np

from bench.data import Dataset

SEED = 42  # the package's own default: the dataset of the paper


def load_mnist1d(samples: int = 5000, test_fraction: float = 0.2, input_scale: float = 1.0) -> Dataset:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = samples, 1 - test_fraction, SEED
    state = np.random.get_state()  # make_dataset seeds numpy's global generator: leave it as it was
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    scale = np.float32(input_scale)
    x_train, x_test = (data[k].astype(np.float32)[..., np.newaxis] * scale for k in ("x", "x_test"))
    return Dataset(x_train, data["y"].astype(np.int32), x_test, data["y_test"].astype(np.int32), 10)


load = load_mnist1d


def train_size(options: dict) -> int:
    """As ``make_dataset`` splits: whole examples per class, then the first share for training."""
    return int((options["samples"] // 10) * 10 * (1 - options["test_fraction"]))


def example_shape(options: dict) -> tuple[int, ...]:
    return (40, 1)
