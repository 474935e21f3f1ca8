"""scikit-learn's handwritten digits as small colour scenes: a conv-net task whose images differ the
way photographs do, built from data that ships inside a package (no download).

Each digit is scaled up to a random size, put at a random place on a ``image_size`` canvas, drawn
in a random ink colour brighter (in every channel) than its random background colour, exposed with
a random gain and covered with sensor noise. So each image's own channel statistics (its
background colour, its exposure) differ from the population's far more than the procedural
``synthetic`` set's do, which is what makes a batch of two a poor estimate of them (BatchNorm's
small-batch problem; Wu & He 2018 show it on ImageNet photographs). The handwriting varies too:
every source digit is its own writer's.

The split is made on the source digits, before rendering, so no test image shares a digit with
a training image; ``copies`` renders each source digit that many times (different places, colours
and exposures).
"""

from __future__ import annotations

import numpy as np

from bench.data import Dataset, stratified_train_size
from bench.data.digits import CLASS_COUNTS, load_digits


def make_digit_scenes(image_size: int = 32, copies: int = 2, min_size: int = 14, max_size: int = 28,
                      exposure: float = 3.0, noise: float = 0.1, test_fraction: float = 0.25,
                      seed: int = 0) -> Dataset:
    sources = load_digits(test_fraction, input_scale=1 / 16)  # the digits dataset's own split, pixels in [0, 1]
    rng = np.random.default_rng(seed)
    render = dict(image_size=image_size, copies=copies, sizes=(min_size, min(max_size, image_size)),
                  exposure=exposure, noise=noise)
    x_train, y_train = _render(sources.x_train[..., 0], sources.y_train, rng, **render)
    x_test, y_test = _render(sources.x_test[..., 0], sources.y_test, rng, **render)
    order = rng.permutation(len(y_train))
    return Dataset(x_train[order], y_train[order], x_test, y_test, classes=10)


def _render(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator, image_size: int, copies: int,
            sizes: tuple[int, int], exposure: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` scenes per 8x8 digit: stroke mask scaled and placed, colours, exposure, noise."""
    from scipy.ndimage import zoom

    n = len(digits) * copies
    scenes = np.empty((n, image_size, image_size, 3), np.float32)
    for i in range(n):
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        mask = np.clip(zoom(digits[i % len(digits)], size / 8.0, order=1), 0.0, 1.0)[..., np.newaxis]
        top, left = rng.integers(0, image_size - mask.shape[0] + 1, size=2)
        background = rng.uniform(0.0, 0.5, size=3)
        ink = background + rng.uniform(0.5, 1.0, size=3)  # brighter than the background in every channel
        canvas = np.broadcast_to(background, (image_size, image_size, 3)).copy()
        window = canvas[top:top + mask.shape[0], left:left + mask.shape[1]]
        window += mask * (ink - background)
        gain = np.exp(rng.uniform(-np.log(exposure), np.log(exposure))) if exposure > 1 else 1.0
        scenes[i] = canvas * gain + rng.normal(0.0, noise, size=canvas.shape)
    return scenes, np.tile(labels, copies)


load = make_digit_scenes

CHECKED_FIELD = "min_size"


def check(options: dict, folder) -> dict:
    """A digit size range that fits the canvas, said when the suite loads (not when a case renders)."""
    largest = min(options["max_size"], options["image_size"])
    if options["min_size"] > largest:
        raise ValueError(f"{options['min_size']} is larger than the largest digit this canvas takes "
                         f"(max_size {options['max_size']}, image_size {options['image_size']})")
    return options


def train_size(options: dict) -> int:
    return stratified_train_size(CLASS_COUNTS, options["test_fraction"]) * options["copies"]


def example_shape(options: dict) -> tuple[int, ...]:
    return (options["image_size"], options["image_size"], 3)
