"""The statistics behind every verdict: intervals, pairing, TOST ties, samples needed."""

import math

import pytest

from bench.analysis.stats import decide, difference, log_ratio, mann_whitney, samples_needed, welch


def test_paired_difference_is_a_t_interval_of_the_per_seed_differences():
    a = {0: 0.90, 1: 0.95, 2: 0.80}
    b = {0: 0.88, 1: 0.92, 2: 0.79}  # differences 0.02, 0.03, 0.01: sd 0.01
    d = difference(a, b)
    assert d.paired and d.n == 3
    assert d.mean == pytest.approx(0.02)
    # t(0.975, 2) = 4.3027, half width 4.3027 * 0.01 / sqrt(3) = 0.024841
    assert d.high95 - d.mean == pytest.approx(0.024841, abs=1e-6)
    # t(0.95, 2) = 2.9200: the TOST interval is narrower
    assert d.high90 - d.mean == pytest.approx(0.016858, abs=1e-6)


def test_pairing_removes_the_seed_effect_an_unpaired_test_would_keep():
    a = {0: 0.60, 1: 0.90, 2: 0.75}
    b = {s: v - 0.05 for s, v in a.items()}  # always 5 points behind, seeds vary a lot
    assert decide(difference(a, b), 0.01).outcome == "winner"
    unpaired = welch(list(a.values()), list(b.values()))
    assert decide(unpaired, 0.01).outcome == "open"


def test_without_two_shared_seeds_the_difference_is_unpaired():
    d = difference({0: 0.9, 1: 0.91}, {2: 0.8, 3: 0.82})
    assert not d.paired and d.mean == pytest.approx(0.095)


def test_tie_when_the_90_percent_interval_is_inside_the_margin():
    a = {0: 0.950, 1: 0.952, 2: 0.951, 3: 0.949}
    b = {0: 0.949, 1: 0.951, 2: 0.952, 3: 0.950}
    assert decide(difference(a, b), 0.01).outcome == "tie"
    assert decide(difference(a, b), 0.0001).outcome == "open"


def test_a_consistent_but_negligible_lead_is_a_tie_not_a_win():
    a = {0: 0.951, 1: 0.952, 2: 0.953}
    b = {0: 0.950, 1: 0.951, 2: 0.952}  # always 0.1 point behind, zero spread
    assert decide(difference(a, b), 0.01).outcome == "tie"
    assert decide(difference(a, b), 0.0005).outcome == "winner"


def test_one_seed_decides_nothing():
    decision = decide(difference({0: 0.9}, {0: 0.5}), 0.01)
    assert decision.outcome == "one sample" and decision.text("±1 points") == "one seed: no interval"


def test_open_verdicts_say_how_many_seeds_would_settle_them():
    a = {0: 0.90, 1: 0.80, 2: 0.95}
    b = {0: 0.85, 1: 0.82, 2: 0.88}  # differences 0.05, -0.02, 0.07
    d = difference(a, b)
    decision = decide(d, 0.01)
    assert decision.outcome == "open" and decision.needed is not None and decision.needed > 3
    n = decision.needed
    # at n seeds the observed spread would exclude zero; at n - 1 it would not (nor fit the margin)
    from scipy import stats
    half = lambda k: stats.t.ppf(0.975, k - 1) * d.sd / math.sqrt(k)  # noqa: E731
    assert half(n) < abs(d.mean) <= half(n - 1)
    assert f"about {n} seeds" in decision.text("±1 points")


def test_effects_too_small_to_chase_say_so():
    d = difference({0: 0.9, 1: 0.5, 2: 0.7}, {0: 0.5, 1: 0.9, 2: 0.7001})
    assert samples_needed(d, 0.0) is None
    assert decide(d, 0.0).text("±0 points") == "open: more than 48 seeds needed"


def test_log_ratio_is_the_ratio_of_geometric_means():
    d = log_ratio([2.0, 2.0, 2.2, 1.8], [1.0, 1.0, 1.1, 0.9])
    assert math.exp(d.mean) == pytest.approx(2.0, rel=1e-3)
    assert d.low95 < d.mean < d.high95


def test_mann_whitney_tells_shifted_samples_from_noise():
    base = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01]
    assert mann_whitney(base, [v * 2 for v in base]) < 0.01
    assert mann_whitney(base, list(reversed(base))) > 0.5
    assert mann_whitney([1.0], [2.0]) == 1.0
