"""The catalog (what suites may name, importable without TensorFlow) and the builders of the real
layers must list the same normalizer kinds: one registry entry each, no kind left half-added."""


def test_every_catalog_normalizer_has_a_builder_and_no_builder_is_unlisted():
    from bench import catalog
    from bench.measure.layers import BUILDERS

    assert sorted(catalog.NORMALIZERS) == sorted(BUILDERS)


def test_the_accuracy_fields_verdicts_may_compare_are_accuracies_of_the_record_schema():
    from bench import catalog
    from bench.records import FIELDS

    for name in catalog.ACCURACY_FIELDS:
        assert (FIELDS[name].unit, FIELDS[name].better) == ("fraction", "higher"), name
    assert "test_accuracy" in catalog.ACCURACY_FIELDS


def test_verdict_candidates_must_be_normalizer_or_a_grid_axis():
    import pytest

    from bench.errors import SuiteError
    from bench.suite.loader import suite_from_document

    document = {"name": "v", "normalizers": {"batch": {}}, "grid": {"batch_size": [8]}}
    assert suite_from_document({**document, "verdicts": {"candidates": "batch_size"}}, "v.yaml").verdicts == {
        "candidates": "batch_size", "baseline": "", "accuracy_field": "test_accuracy", "versus_field": "",
        "headline": "accuracy", "accuracy": 0.01, "throughput": 0.05}
    with pytest.raises(SuiteError, match=r"^v.yaml: verdicts.candidates: must be normalizer or a grid axis"):
        suite_from_document({**document, "verdicts": {"candidates": "momentum"}}, "v.yaml")
