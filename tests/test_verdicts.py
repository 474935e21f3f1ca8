import math

import pytest

from report.frame import records_frame
from report.verdicts import Estimate, estimate, judge, suite_verdicts


def test_estimate_is_a_t_interval():
    e = estimate([0.9, 0.92, 0.94])
    assert e.mean == pytest.approx(0.92)
    # sd = 0.02, t(0.975, 2) = 4.3027, half width = 4.3027 * 0.02 / sqrt(3) = 0.049683
    assert e.high - e.mean == pytest.approx(0.049683, abs=1e-6)
    single = estimate([0.5])
    assert single.n == 1 and math.isnan(single.low)


def test_judge():
    assert judge(Estimate(0.9, 0.88, 0.92, 3), Estimate(0.8, 0.78, 0.82, 3)) == "clear"
    assert judge(Estimate(0.9, 0.80, 0.99, 3), Estimate(0.85, 0.78, 0.9, 3)) == "within noise"
    assert judge(Estimate(0.9, math.nan, math.nan, 1), Estimate(0.8, math.nan, math.nan, 1)) == "one seed: no interval"


def record(normalizer, batch, seed, acc, speed, momentum=None):
    axes = {"batch_size": batch} if momentum is None else {"batch_size": batch, "momentum": momentum}
    return {"case_id": f"s/{normalizer}/{batch}/{momentum}/{seed}", "suite": "s", "normalizer": normalizer,
            "device": "cpu", "status": "ok", "seed": seed, "batch_size": batch, "momentum": momentum,
            "axes": axes, "not_applicable": [] if momentum is not None else ["momentum"],
            "test_accuracy": acc, "train_samples_per_sec": speed}


def test_verdict_rows_name_the_winner_margin_and_noise():
    records = [
        record("batch", 8, 0, 0.95, 1000, 0.9), record("batch", 8, 1, 0.96, 1100, 0.9),
        record("layer", 8, 0, 0.80, 900), record("layer", 8, 1, 0.81, 950),
    ]
    header, rows = suite_verdicts(records_frame(records))
    assert header[:2] == ["device", "batch_size"]
    assert rows == [["cpu", "8", "batch (momentum=0.9) (0.955)", "+0.150 over layer", "clear",
                     "batch (momentum=0.9) (1,050)", "1.14x layer", "within noise"]]


def test_no_measured_records_no_verdicts():
    assert suite_verdicts(records_frame([{"case_id": "a", "status": "skipped"}])) == ([], [])
