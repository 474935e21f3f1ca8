"""The record-field table: one entry per field, from which records, the report's tables, compare
and the docs' reference are built."""

import random

import pytest

from bench.results import fields
from bench.results.fields import FIELDS, Field, register_field, unregister_field
from bench.results.fields_doc import render
from tests.conftest import ROOT


def test_the_committed_field_reference_is_the_generated_one():
    """docs/reference/fields.md is rendered from the table; edit fields.py and rerun
    ``python -m bench.results.fields_doc`` instead of the page."""
    assert (ROOT / "docs" / "reference" / "fields.md").read_text() == render()


def test_a_field_must_say_what_it_is():
    with pytest.raises(ValueError, match="better must be"):
        Field("x", "number", better="faster")
    with pytest.raises(ValueError, match="field type"):
        Field("x", "float")
    with pytest.raises(ValueError, match="unknown places"):
        Field("x", "number", shown=("sidebar",))
    with pytest.raises(ValueError, match="exists already"):
        register_field("test_accuracy", Field("x", "number"))


def test_accuracies_and_rates_are_told_by_unit_and_direction():
    assert "test_accuracy_precise_bn" in fields.accuracy_fields()
    assert "bandwidth_fraction" not in fields.accuracy_fields()  # higher is better, but not an accuracy
    assert all(FIELDS[name].is_rate for name in ("train_samples_per_sec", "layer_samples_per_sec"))


@pytest.fixture
def scratch_loss():
    """A throwaway metric (lower is better) shown everywhere a field can be."""
    register_field("scratch_loss", Field("a test metric", "number", unit="nats", better="lower",
                                         label="scratch loss", shown=("summary", "cases", "compare")))
    yield "scratch_loss"
    unregister_field("scratch_loss")


def record(case_id, seed, loss, normalizer="batch"):
    return {"case_id": f"{case_id}/seed={seed}/cpu", "suite": "s", "status": "ok", "device": "cpu", "seed": seed,
            "normalizer": normalizer, "normalizer_kind": normalizer, "batch_size": 8, "axes": {},
            "not_applicable": [], "test_accuracy": 0.9, "scratch_loss": loss}


def test_a_new_field_is_one_entry_and_reaches_records_report_compare_and_docs(scratch_loss, capsys, tmp_path):
    from bench.analysis.compare import Rule, compare, metrics, regressions
    from bench.analysis.frame import records_frame
    from bench.results.records import new_record
    from bench.suite import expand
    from bench.suite.loader import suite_from_document
    from report import tables
    from report.render import RunData, render_report

    case = expand(suite_from_document({"name": "s", "normalizers": {"batch": {}}, "devices": ["cpu"]}, "s.yaml"))[0]
    assert "scratch_loss" in new_record(case, "r")
    rng = random.Random(0)
    before = [record("s/batch", seed, 1.0 + rng.gauss(0, 0.01)) for seed in range(4)]
    after = [{**r, "scratch_loss": r["scratch_loss"] + 0.5} for r in before]
    frame = records_frame(before)
    assert frame["scratch_loss"].notna().all()
    header, rows = tables.suite_summary(frame)
    assert "scratch loss" in header and rows[0][header.index("scratch loss")] == tables.fmt(frame["scratch_loss"].mean())
    assert "scratch loss" in tables.record_rows(frame)[0]
    # lower is better: a rise is the regression, a fall is not
    assert "scratch_loss" in metrics()
    table = compare(before, after)
    assert table["scratch_loss_change"].round(6).tolist() == [0.5] * 4
    (found,) = regressions(table, [Rule("scratch_loss", 10)])
    assert found.startswith("s/batch/cpu: scratch_loss +0.500 over 4 seed(s), 95% interval [+0.500, +0.500]")
    assert regressions(compare(after, before), [Rule("scratch_loss", 10)]) == []
    assert "scratch loss before" in tables.comparison_rows(table)[0]
    html = render_report([RunData({"run_id": "a", "suites": [{"name": "s"}]}, before, []),
                          RunData({"run_id": "b", "suites": [{"name": "s"}]}, after, [])])
    assert "scratch loss" in html
    assert "| `scratch_loss` | number | nats | lower | summary, cases, compare | a test metric |" in render()
