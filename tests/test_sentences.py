"""The one-sentence summary of a suite's headline verdicts, against hand-built verdicts."""

import math

from bench.analysis.comparisons import Verdict
from bench.analysis.sentences import summary_sentence
from bench.analysis.stats import Decision, Difference


def verdict(setting, best, runner_up, mean, outcome, needed=None, scale="difference", samples="seeds"):
    diff = Difference(mean, mean - 0.1, mean + 0.1, mean - 0.08, mean + 0.08, 4, 0.05, True)
    return Verdict(setting, "baseline", best, 0.9, runner_up, diff, Decision(outcome, needed, samples), 0.01, scale)


def test_counts_the_largest_clear_effect_and_what_the_open_ones_need():
    lead = [verdict({"device": "cpu", "batch_size": 4}, "group", "batch", -0.03, "open", needed=13),
            verdict({"device": "cpu", "batch_size": 32}, "group", "batch", -0.02, "open", needed=7),
            verdict({"device": "cpu", "batch_size": 128}, "group", "batch", -0.578, "winner"),
            verdict({"device": "cpu", "batch_size": 128}, "layer", "batch", -0.15, "winner"),
            verdict({"device": "cpu", "batch_size": 4}, "layer", "batch", 0.001, "tie"),
            verdict({"device": "cpu", "batch_size": 32}, "layer", "batch", 0.0, "open")]
    assert summary_sentence(lead, "each candidate's accuracy against the baseline, per setting") == (
        "Each candidate's accuracy against the baseline, per setting: 3 of 6 decided (2 clear, 1 equivalent); "
        "largest clear effect: group -57.8 points against batch at batch_size=128; 3 open (about 10 seeds per "
        "candidate would settle half of them).")


def test_speed_ratios_are_multiples_and_nothing_open_is_said_when_all_are_decided():
    lead = [verdict({"device": "cpu", "normalizer": "batch"}, "backend=jax", "backend=tensorflow", math.log(1.77),
                    "winner", scale="ratio", samples="rounds"),
            verdict({"device": "cpu", "normalizer": "rms"}, "backend=jax", "backend=tensorflow", 0.0, "all failed",
                    scale="ratio")]
    assert summary_sentence(lead, "fastest training against the runner-up, per setting") == (
        "Fastest training against the runner-up, per setting: 2 of 2 decided (1 clear, 1 all failed); largest "
        "clear effect: backend=jax 1.77x backend=tensorflow's speed at normalizer=batch.")


def test_nothing_compared_is_an_empty_summary():
    lone = Verdict({"device": "cpu"}, "accuracy", "batch", 0.9, None, None, Decision("winner"), 0.01)
    assert summary_sentence([lone], "best accuracy") == ""
    open_ = [verdict({"device": "cpu"}, "rms", "layer", 0.002, "open")]
    assert summary_sentence(open_, "x") == "X: 0 of 1 decided; 1 open."
