"""``normbench fidelity``: it runs both timings and ends with ``ratio=<x>`` (no threshold here:
the ratio is a benchmark result, checked against 0.95-1.05 only with --strict)."""

import io
import re

import pytest

from bench.cli import main


@pytest.mark.tensorflow
def test_fidelity_prints_trials_and_ends_with_the_ratio():
    from bench.measure.fidelity import run_fidelity

    out = io.StringIO()
    ratio = run_fidelity(trials=2, stream=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("trial 1 (normbench first): normbench ") and "bare loop" in lines[0]
    assert lines[1].startswith("trial 2 (bare loop first): normbench ")  # the order alternates
    assert re.fullmatch(r"ratio=\d+\.\d{3}", lines[-1]) and float(lines[-1][6:]) == pytest.approx(ratio, abs=5e-4)
    trial_ratios = [float(re.search(r"ratio (\d+\.\d{3})$", line).group(1)) for line in lines[:2]]
    assert lines[-2].startswith(f"ratios {trial_ratios[0]:.3f}, {trial_ratios[1]:.3f}: median ")


def test_the_order_alternates_abba():
    from bench.measure.fidelity import order

    assert [order(t)[0] for t in range(4)] == ["normbench", "bare loop", "normbench", "bare loop"]
    assert all(sorted(order(t)) == ["bare loop", "normbench"] for t in range(4))


def test_the_verdict_reports_the_spread_and_says_why_ratios_fall_outside():
    from bench.measure.fidelity import verdict

    assert verdict([1.01, 0.99, 1.02], [0.02, 0.03]) == (
        "ratios 1.010, 0.990, 1.020: median 1.010, spread 0.990-1.020; median CV of the timings 2.5%; "
        "every ratio within 0.95-1.05")
    noisy = verdict([1.027, 0.921, 0.900, 0.935], [0.20, 0.35, 0.25, 0.30])
    assert noisy.endswith("3 of 4 outside 0.95-1.05: the timings' own noise (median CV 27.5%) is as large as "
                          "the 5% bound, so one trial cannot resolve it: a busy machine")
    assert verdict([0.90, 0.91], [0.01, 0.01]).endswith("a difference in the code path, investigate")
    assert verdict([1.022, 0.981, 0.923, 1.08, 1.0], [0.045, 0.04]).endswith(
        "2 of 5 outside 0.95-1.05: they fall on both sides of 1 and the median is inside: the machine's speed "
        "moved between the two timings of a trial, not a steady cost of either path")


def test_bad_trials_flag_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fidelity", "--trials", "none"])
    assert exit_.value.code == 2
    assert "must be a whole number >= 1, got 'none'" in capsys.readouterr().err
