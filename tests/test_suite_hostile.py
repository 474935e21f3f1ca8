"""Hostile and generated suite documents: the loader accepts them or raises SuiteError, nothing else."""

import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.core.errors import SuiteError
from bench.suite import expand, load_suite
from bench.suite.loader import suite_from_document

KNOWN_KEYS = ["name", "description", "dataset", "model", "training", "normalizers", "grid", "seeds",
              "devices", "timing", "verdicts", "candidates", "quick", "kind", "workload", "groups", "momentum", "epsilon", "batch_size",
              "epochs", "learning_rate", "widths", "placement", "batch", "group", "layer", "none",
              "digits", "synthetic", "cnn", "mlp", "optimizer", "samples", "max_time"]
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=6)
scalars = (st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=True)
           | st.text(max_size=8) | st.sampled_from(KNOWN_KEYS))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=25)

VALID = {"name": "ok", "normalizers": {"batch": {}, "group": {"groups": 4}, "layer": {}},
         "grid": {"batch_size": [8, 16], "momentum": [0.9]}, "seeds": [0], "devices": ["cpu"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, values, max_size=8))
def test_generated_documents_are_accepted_or_rejected_cleanly(document):
    try:
        suite = suite_from_document(document, "gen.yaml")
    except SuiteError as exc:
        assert str(exc).startswith("gen.yaml: ") and "\n" not in str(exc)
    else:
        assert expand(suite)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(VALID)), st.sampled_from(["", "grid", "normalizers", "training"]), values)
def test_one_mutated_field_of_a_valid_suite(key, section, value):
    document = {k: (dict(v) if isinstance(v, dict) else v) for k, v in VALID.items()}
    if section and isinstance(document.get(section), dict):
        document[section][key] = value
    else:
        document[key] = value
    try:
        suite = suite_from_document(document, "mut.yaml")
    except SuiteError as exc:
        assert str(exc).startswith("mut.yaml: ") and "\n" not in str(exc)
    else:
        assert expand(suite)


def test_billion_laughs_is_rejected_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("name: bomb\nnormalizers: {batch: {}}\ngrid: {batch_size: *a9}")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    started = time.perf_counter()
    try:
        load_suite(path)
    except SuiteError as exc:
        assert "expands to more than" in str(exc)
    else:
        raise AssertionError("an alias bomb was accepted")
    assert time.perf_counter() - started < 2.0


def test_python_object_tags_never_execute(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(path)
    assert not marker.exists()


def test_few_aliases_are_fine(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text("name: a\nnormalizers: {batch: {}}\ngrid:\n  batch_size: &sizes [8, 16]\nquick:\n  grid: {batch_size: *sizes}\n")
    assert load_suite(path).grid["batch_size"] == [8, 16]


def test_huge_and_non_ascii_strings(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump({"name": "ünïcode", "normalizers": {"batch": {}}}, allow_unicode=True))
    with pytest.raises(SuiteError) as raised:  # names become directory-safe case ids: ASCII only
        load_suite(path)
    assert str(raised.value) == f"{path}: name: use letters, digits, '_', '.' and '-' only, got 'ünïcode'"
    path.write_text(yaml.safe_dump({"name": "x", "description": "é" * 100_000, "normalizers": {"batch": {}}}))
    assert len(load_suite(path).description) == 100_000
