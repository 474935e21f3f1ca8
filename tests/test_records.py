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
