"""Seeded procedural images of any size, channel count and class count.

Each class is a smooth random template (a sum of a few oriented sinusoids); an example is its
class's template, randomly shifted in brightness and contrast, plus Gaussian pixel noise. ``noise``
sets how hard the task is, so a suite can pick a setting where normalizers differ. Pixel noise alone
averages out over a large image (a ResNet scored 1.000 at 32x32x3 with noise 4.0), so two structured
nuisances make a set hard without making it random: ``shift`` moves each example's template by up to
that many pixels (circularly, both axes), and ``overlap`` adds a second, different class's template
at a weight drawn from [0, overlap) (below 1 the label's template always dominates, so the set stays
learnable; examples near the top of the range are the hard ones).
"""

from __future__ import annotations

import numpy as np

from bench.data import Dataset, split, stratified_train_size

SPLIT_SEED = 1234


def make_synthetic(samples: int = 2000, image_size: int = 8, channels: int = 1, classes: int = 10,
                   noise: float = 0.6, test_fraction: float = 0.25, input_scale: float = 1.0,
                   shift: int = 0, overlap: float = 0.0, seed: int = 0) -> Dataset:
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
    signal = _nuisances(templates, y, shift, overlap, seed) if shift or overlap else templates[y]
    x = signal * contrast + brightness + rng.normal(0.0, noise, size=(samples, *templates.shape[1:]))
    x = (x * input_scale).astype(np.float32)
    return split(x, y.astype(np.int32), test_fraction, SPLIT_SEED, classes)


def _nuisances(templates: np.ndarray, y: np.ndarray, shift: int, overlap: float, seed: int) -> np.ndarray:
    """Each example's template shifted and overlaid with another class's. A generator of its own, so
    sets without these nuisances stay exactly what they were."""
    rng = np.random.default_rng([seed, 1])
    classes = len(templates)
    other = (y + rng.integers(1, classes, size=len(y))) % classes
    weight = rng.uniform(0.0, overlap, size=(len(y), 1, 1, 1))
    signal = templates[y] + weight * templates[other]
    moves = rng.integers(-shift, shift + 1, size=(len(y), 2))
    for i, (dy, dx) in enumerate(moves):
        if dy or dx:
            signal[i] = np.roll(signal[i], (dy, dx), axis=(0, 1))
    return signal


load = make_synthetic


def train_size(options: dict) -> int:
    samples, classes = options["samples"], options["classes"]
    counts = [samples // classes + (1 if c < samples % classes else 0) for c in range(classes)]
    return stratified_train_size(counts, options["test_fraction"])


def example_shape(options: dict) -> tuple[int, ...]:
    return (options["image_size"], options["image_size"], options["channels"])
