"""Seeded procedural images of any size, channel count and class count.

Each class is a smooth random template (a sum of a few oriented sinusoids); an example is its
class's template, randomly shifted in brightness and contrast, plus Gaussian pixel noise. ``noise``
sets how hard the task is, so a suite can pick a setting where normalizers differ.
"""

from __future__ import annotations

import numpy as np

from bench.data import Dataset, split

SPLIT_SEED = 1234


def make_synthetic(samples: int = 2000, image_size: int = 8, channels: int = 1, classes: int = 10,
                   noise: float = 0.6, test_fraction: float = 0.25, input_scale: float = 1.0,
                   seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 2 * np.pi, image_size, endpoint=False)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    templates = np.zeros((classes, image_size, image_size, channels), np.float64)
    for c in range(classes):
        for ch in range(channels):
            for _ in range(3):
                fy, fx = rng.integers(0, 3, size=2)
                phase = rng.uniform(0, 2 * np.pi)
                templates[c, :, :, ch] += np.cos(fy * yy + fx * xx + phase)
    templates /= templates.std(axis=(1, 2, 3), keepdims=True) + 1e-9

    y = np.arange(samples) % classes
    contrast = rng.uniform(0.7, 1.3, size=(samples, 1, 1, 1))
    brightness = rng.normal(0.0, 0.3, size=(samples, 1, 1, 1))
    x = templates[y] * contrast + brightness + rng.normal(0.0, noise, size=(samples, *templates.shape[1:]))
    x = (x * input_scale).astype(np.float32)
    return split(x, y.astype(np.int32), test_fraction, SPLIT_SEED, classes)
