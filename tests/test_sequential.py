"""The sequential design of budgeted runs: its looks, when a comparison stops, and a simulation (fixed
seed, 2,000 sequential runs per case) of its error rates and power on noise like the suites'.

Noise: the default run's seed-paired headline differences have a spread of 0.2-14 margins (median 3);
the simulations use one margin (the lower quartile: the comparisons close enough to the margin for
the design to matter) and the default cap of 48 seeds.
"""

import pytest

from bench.analysis.sequential import Rates, looks, next_look, settled, simulate, why_open
from bench.analysis.stats import MAX_SEEDS, Decision, difference, decide

RUNS = 2000


def test_looks_double_the_suites_seeds_up_to_the_cap():
    assert looks(3) == (3, 6, 12, 24, 48) and MAX_SEEDS == 48
    assert looks(4, 20) == (4, 8, 16, 20)
    assert looks(1, 8) == (2, 4, 8)  # one seed has no spread: the first look needs two
    assert next_look(3, looks(3)) == 6 and next_look(7, looks(3)) == 12 and next_look(48, looks(3)) is None


def test_more_looks_widen_every_interval():
    a, b = {0: 0.93, 1: 0.91, 2: 0.95, 3: 0.92}, {0: 0.90, 1: 0.90, 2: 0.90, 3: 0.90}
    once, five = difference(a, b), difference(a, b, looks=5)
    assert five.mean == once.mean and five.low95 < once.low95 and five.high95 > once.high95
    assert decide(once, 0.001).outcome == "winner" and decide(five, 0.001).outcome == "open"


def test_a_lead_inside_the_margin_keeps_going_a_tie_or_a_lead_beyond_it_stops():
    lead_inside = difference({0: 0.905, 1: 0.906, 2: 0.9055}, {0: 0.90, 1: 0.90, 2: 0.90})
    assert decide(lead_inside, 0.05).outcome == "tie"
    assert decide(lead_inside, 0.0001).outcome == "winner" and settled(decide(lead_inside, 0.0001), lead_inside, 0.0001)
    assert not settled(Decision("winner"), lead_inside, 0.01)  # clear, but maybe negligible: more seeds
    assert not settled(Decision("open"), lead_inside, 0.01)


@pytest.fixture(scope="module")
def rates() -> dict[str, Rates]:
    return {"identical": simulate(0.0, 1.0, 1.0, RUNS, seed=11),
            "twice the margin": simulate(2.0, 1.0, 1.0, RUNS, seed=12),
            "half the margin": simulate(0.5, 1.0, 1.0, RUNS, seed=13)}


def test_identical_candidates_end_clear_in_at_most_five_percent(rates):
    identical = rates["identical"]
    assert identical.runs >= 2000
    assert identical.clear <= 0.05 and identical.upper95(identical.clear) <= 0.05


def test_a_difference_of_twice_the_margin_is_decided_within_the_cap(rates):
    assert rates["twice the margin"].clear >= 0.80


def test_a_difference_under_half_the_margin_ends_equivalent(rates):
    assert rates["half the margin"].equivalent >= 0.80


def test_judging_after_every_look_without_the_correction_would_inflate_false_clear_verdicts():
    """The point of the design: the same stopping rule with unwidened (one-look) intervals calls
    identical candidates clear far more often than 5%."""
    import numpy as np

    rng = np.random.default_rng(5)
    clear = 0
    for row in rng.normal(0.0, 1.0, size=(RUNS, 48)):
        for n in looks(3):
            decision = decide(difference(dict(enumerate(row[:n])), dict.fromkeys(range(n), 0.0)), 1.0)
            if decision.outcome == "winner":
                clear += 1
                break
            if decision.outcome == "tie":
                break
    assert clear / RUNS > 0.05


def test_an_open_comparison_says_why():
    d = difference({0: 0.9, 1: 0.8, 2: 0.95}, {0: 0.85, 1: 0.82, 2: 0.88})
    assert why_open(d, None, 48, budget_spent=True) == "differs by less than 48 seeds can show"
    assert why_open(d, 12, 48, budget_spent=True) == "budget spent"
    assert why_open(d, 60, 48, budget_spent=False) == "differs by less than 48 seeds can show"


def test_a_budgeted_runs_verdicts_say_how_many_seeds_they_took_and_why_they_are_open():
    from bench.analysis.frame import records_frame
    from bench.analysis.verdicts import setting_verdicts
    from tests.test_settle import OPEN_AT_8, records

    options = {"looks": 5, "max_seeds": 48}
    by_batch = {v.setting["batch_size"]: v for v in setting_verdicts(records_frame(records(OPEN_AT_8)), None, options)
                if v.kind == "accuracy"}
    assert by_batch[8].verdict_text() == "open: budget spent (3 seeds)"
    assert by_batch[32].verdict_text() == "clear (3 seeds)"
    fixed = setting_verdicts(records_frame(records(OPEN_AT_8)), None, {})
    assert [v.verdict_text() for v in fixed if v.kind == "accuracy"][0].startswith("open: about ")
