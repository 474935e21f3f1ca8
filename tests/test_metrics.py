import math

import pytest

from bench.core import metrics


def test_accuracy():
    assert metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    with pytest.raises(ValueError):
        metrics.accuracy([], [])


def test_nan_rate_counts_nan_and_inf_steps():
    assert metrics.nan_rate([0.5, float("nan"), float("inf"), 0.1]) == 0.5
    assert metrics.nan_rate([1.0, 2.0]) == 0.0


def test_first_nonfinite_step():
    assert metrics.first_nonfinite_step([0.3, 0.2, float("-inf"), float("nan")]) == 2
    assert metrics.first_nonfinite_step([0.3]) is None


def test_samples_per_second():
    assert metrics.samples_per_second(32, 0.004) == pytest.approx(8000.0)
    with pytest.raises(ValueError):
        metrics.samples_per_second(32, 0.0)


def test_effective_learning_rate_linear_rule():
    assert metrics.effective_learning_rate(0.1, 8, "linear", 32) == pytest.approx(0.025)
    assert metrics.effective_learning_rate(0.1, 8, "none", 32) == 0.1


def test_final_loss_averages_the_last_tenth():
    losses = [10.0] * 90 + [1.0] * 5 + [3.0] * 5
    assert metrics.final_loss(losses) == pytest.approx(2.0)
    assert metrics.final_loss([1.0, float("nan")]) is None


def test_relative_spread():
    assert metrics.relative_spread(0.5, 2.0) == 0.25
    assert math.isnan(metrics.relative_spread(0.5, 0.0))


def test_statistics_gaps_against_literal_numbers():
    # channel 0: mean off by 1 sd (1 vs 0, sd 1), variance 2 vs 1; channel 1: exact (mean 3, var 4)
    mean_error, variance_ratio = metrics.statistics_gaps([1.0, 3.0], [2.0, 4.0], [0.0, 3.0], [1.0, 4.0])
    assert mean_error == pytest.approx(0.5)
    assert variance_ratio == pytest.approx(1.5)


def test_statistics_gaps_skips_constant_channels():
    assert metrics.statistics_gaps([5.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0]) == (0.0, 1.0)
    assert all(math.isnan(v) for v in metrics.statistics_gaps([1.0], [1.0], [1.0], [0.0]))


def test_chance_accuracy_is_the_most_frequent_labels_share():
    from bench.core.metrics import chance_accuracy

    assert chance_accuracy([0, 0, 1, 2]) == 0.5
    assert chance_accuracy([3, 3, 3]) == 1.0
    with pytest.raises(ValueError):
        chance_accuracy([])
