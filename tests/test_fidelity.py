"""``normbench fidelity``: it runs both timings and ends with ``ratio=<x>`` (no threshold here:
the ratio is a benchmark result, checked against 0.95-1.05 only with --strict)."""

import io
import re

import pytest

from bench.cli import main


@pytest.mark.tensorflow
def test_fidelity_prints_trials_and_ends_with_the_ratio():
    from bench.fidelity import run_fidelity

    out = io.StringIO()
    ratio = run_fidelity(trials=2, stream=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("trial 1 (normbench first): normbench ") and "bare loop" in lines[0]
    assert lines[1].startswith("trial 2 (bare loop first): normbench ")  # the order alternates
    assert re.fullmatch(r"ratio=\d+\.\d{3}", lines[-1]) and float(lines[-1][6:]) == pytest.approx(ratio, abs=5e-4)
    assert ratio > 0


def test_bad_trials_flag_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fidelity", "--trials", "none"])
    assert exit_.value.code == 2
    assert "must be a whole number >= 1, got 'none'" in capsys.readouterr().err
