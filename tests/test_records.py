import pytest

from bench.results.records import FIELDS, SCHEMA_VERSION, new_record, skipped, upgrade
from bench.suite import expand, load_suite
from tests.conftest import MINIMAL


@pytest.fixture
def case(write_suite):
    text = MINIMAL + "training: {lr_scaling: linear, learning_rate: 0.1, reference_batch_size: 32}\n"
    return next(c for c in expand(load_suite(write_suite(text))) if c.normalizer == "layer")


def test_new_record_has_every_field_and_the_case_identity(case):
    record = new_record(case, "run-1")
    assert list(record) == list(FIELDS)
    assert record["schema_version"] == SCHEMA_VERSION
    assert record["case_id"] == case.case_id and record["run_id"] == "run-1"
    assert record["momentum"] is None and record["not_applicable"] == ["momentum"]
    assert record["batch_size"] == 8 and record["eval_batch_size"] == 8  # 0 means "the training batch size"
    assert record["learning_rate"] == pytest.approx(0.025) and record["base_learning_rate"] == 0.1
    assert record["status"] is None and record["test_accuracy"] is None


def test_skipped_record_carries_the_reason(case):
    record = skipped(case, "run-1", "no GPU")
    assert record["status"] == "skipped" and record["error"] == "no GPU"


def test_upgrade_fills_missing_fields_and_refuses_newer_schemas():
    assert upgrade({"case_id": "a"})["test_accuracy"] is None
    with pytest.raises(ValueError):
        upgrade({"case_id": "a", "schema_version": SCHEMA_VERSION + 1})


def test_docs_document_every_suite_option():
    """docs/suites.md and docs/layer-suites.md name every option a suite section, dataset, model or normalizer accepts."""
    from bench.analysis.headlines import VERDICT_OPTIONS
    from bench.suite import catalog
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "suites.md").read_text() + (ROOT / "docs" / "layer-suites.md").read_text()
    sections = [catalog.TRAINING, catalog.TIMING, catalog.LAYER_BENCH, VERDICT_OPTIONS, *catalog.DATASETS.values(),
                *catalog.MODELS.values(), *(kind.options for kind in catalog.NORMALIZERS.values())]
    assert sorted({o for section in sections for o in section if f"`{o}`" not in page}) == []


def test_records_written_before_the_renames_load_render_and_compare_with_new_ones():
    """Schema 2 said ``kind`` and ``suite_kind``; they load under their new names, and a schema-2 run
    pairs case by case with a schema-3 run of the same experiments."""
    from bench.analysis.compare import compare
    from bench.analysis.frame import records_frame

    old = {"schema_version": 2, "case_id": "s/batch/default/seed=0/cpu", "config_hash": "ee3048f86b11ea6d",
           "suite": "s", "normalizer": "batch", "kind": "batch", "suite_kind": "model", "status": "ok",
           "seed": 0, "device": "cpu", "axes": {}, "not_applicable": [], "test_accuracy": 0.9,
           "train_samples_per_sec": 100.0}
    upgraded = upgrade(old)
    assert (upgraded["normalizer_kind"], upgraded["workload"]) == ("batch", "model") and "kind" not in upgraded
    new = {**upgraded, "test_accuracy": 0.85, "train_samples_per_sec": 120.0}
    frame = records_frame([old])
    assert frame.loc[0, "normalizer_kind"] == "batch" and frame.loc[0, "workload"] == "model"
    table = compare([old], [new])
    assert len(table) == 1 and round(table.loc[0, "test_accuracy_change"], 6) == -0.05
    assert round(table.loc[0, "train_samples_per_sec_change"], 6) == 0.2
