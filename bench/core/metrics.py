"""Pure functions from raw numbers to the figures a record stores. No TensorFlow, no I/O."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def accuracy(predicted: Sequence[int], expected: Sequence[int]) -> float:
    predicted, expected = np.asarray(predicted), np.asarray(expected)
    if predicted.shape != expected.shape or predicted.size == 0:
        raise ValueError(f"need equal, non-empty label arrays, got {predicted.shape} and {expected.shape}")
    return float(np.mean(predicted == expected))


def chance_accuracy(labels: Sequence[int]) -> float:
    """The accuracy of always predicting the most frequent label: what a model that learned nothing
    (or diverged and predicts one class) scores."""
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("no labels")
    return float(np.bincount(labels.astype(np.int64)).max() / labels.size)


def nan_rate(losses: Sequence[float]) -> float:
    """The fraction of training steps whose loss is NaN or infinite."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("no training steps were run")
    return float(np.mean(~np.isfinite(losses)))


def first_nonfinite_step(losses: Sequence[float]) -> int | None:
    """The 0-based index of the first step whose loss is not finite, or None if all are."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(losses, dtype=np.float64)))
    return int(bad[0]) if bad.size else None


def effective_learning_rate(learning_rate: float, batch_size: int, scaling: str,
                            reference_batch_size: int) -> float:
    """The rate the optimizer uses. ``linear`` is the linear scaling rule (Goyal et al., 2017,
    "Accurate, Large Minibatch SGD"), also used by the Group Normalization paper's batch-size sweep:
    each epoch then makes similar progress at every batch size."""
    if scaling == "linear":
        return learning_rate * batch_size / reference_batch_size
    if scaling == "none":
        return learning_rate
    raise ValueError(f"unknown learning-rate scaling {scaling!r}")


def samples_per_second(batch_size: int, seconds_per_step: float) -> float:
    if seconds_per_step <= 0 or not math.isfinite(seconds_per_step):
        raise ValueError(f"seconds per step must be positive and finite, got {seconds_per_step}")
    return batch_size / seconds_per_step


def relative_spread(iqr: float, median: float) -> float:
    """Interquartile range over the median: a scale-free spread that ignores a few outlier rounds."""
    return iqr / median if median > 0 else math.nan


def final_loss(losses: Sequence[float]) -> float | None:
    """The mean loss of the last 10% of steps (at least one): less noisy than the very last step."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0:
        return None
    tail = losses[-max(1, losses.size // 10):]
    value = float(np.mean(tail))
    return value if math.isfinite(value) else None


def statistics_gaps(moving_mean, moving_variance, population_mean, population_variance,
                    floor: float = 1e-12) -> tuple[float, float]:
    """How far BN's moving averages are from the statistics they estimate, averaged over channels:
    the mean's error in population standard deviations, and the moving-to-population variance
    ratio (1.0 when converged). Channels with (near) zero population variance are left out."""
    moving_mean, moving_variance, population_mean, population_variance = (
        np.asarray(a, dtype=np.float64) for a in (moving_mean, moving_variance, population_mean,
                                                  population_variance))
    live = population_variance > floor
    if not live.any():
        return math.nan, math.nan
    std = np.sqrt(population_variance[live])
    mean_error = float(np.mean(np.abs(moving_mean[live] - population_mean[live]) / std))
    variance_ratio = float(np.mean(moving_variance[live] / population_variance[live]))
    return mean_error, variance_ratio
