import math

import pytest

from bench.errors import NormbenchError
from report.compare import Rule, compare, parse_rule, regressions, unmatched


def rec(case_id, acc, train, infer):
    return {"case_id": case_id, "status": "ok", "test_accuracy": acc, "train_samples_per_sec": train,
            "infer_samples_per_sec": infer}


BEFORE = [rec("a", 0.90, 1000.0, 2000.0), rec("b", 0.80, 500.0, 800.0), rec("gone", 0.5, 1.0, 1.0)]
AFTER = [rec("a", 0.91, 940.0, 2100.0), rec("b", 0.75, 500.0, 800.0), rec("new", 0.5, 1.0, 1.0)]


def test_compare_computes_relative_throughput_and_absolute_accuracy_changes():
    table = compare(BEFORE, AFTER).set_index("case_id")
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "train_samples_per_sec_change"] == pytest.approx(-0.06)
    assert table.loc["a", "infer_samples_per_sec_change"] == pytest.approx(0.05)
    assert table.loc["b", "test_accuracy_change"] == pytest.approx(-0.05)
    assert unmatched(BEFORE, AFTER) == (1, 1)


def test_rules_flag_only_drops_beyond_the_threshold():
    table = compare(BEFORE, AFTER)
    assert regressions(table, [Rule("throughput", 5)]) == ["a: train_samples_per_sec -6.0% (rule throughput:5%)"]
    assert regressions(table, [Rule("throughput", 10)]) == []
    assert regressions(table, [Rule("accuracy", 2)]) == ["b: test_accuracy -5.0 points (rule accuracy:2%)"]


def test_missing_numbers_never_count_as_regressions():
    table = compare([rec("a", None, None, 10.0)], [rec("a", 0.5, 10.0, None)])
    assert math.isnan(table.loc[0, "train_samples_per_sec_change"])
    assert regressions(table, [Rule("throughput", 1), Rule("accuracy", 1)]) == []


@pytest.mark.parametrize("text", ["throughput", "speed:5%", "throughput:5", "throughput:-5%"])
def test_bad_rules_are_clear_errors(text):
    with pytest.raises(NormbenchError, match="expected METRIC:N%"):
        parse_rule(text)


def test_parse_rule():
    assert parse_rule("accuracy:2.5%") == Rule("accuracy", 2.5)
