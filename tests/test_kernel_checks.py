"""Kernel checks on real layers, and on planted faulty ones that must be flagged."""

import pytest

from bench.analysis.kernel_flags import kernel_check_failures

pytestmark = pytest.mark.tensorflow


def leaky_layer():
    """A planted bug: each example's output shifted by the batch mean (statistics leaking across the
    batch in every mode, as tensorflow/addons #2745 reports for a GroupNorm)."""
    import keras

    class Leaky(keras.layers.Layer):
        def call(self, inputs, training=None):
            return inputs + keras.ops.mean(inputs, axis=0, keepdims=True)

    return Leaky()


@pytest.mark.parametrize("kind", ["group", "layer", "rms", "instance", "none"])
def test_per_example_normalizers_do_not_depend_on_the_batch(kind):
    from bench.measure.kernel_checks import run_checks

    options = {"groups": 4} if kind == "group" else {}
    result = run_checks(kind, options)
    assert result["batch_dependence_training"] < 1e-6 and result["batch_dependence_inference"] < 1e-6
    assert result["xla_max_rel_diff"] < 1e-4
    assert kernel_check_failures({"normalizer_kind": kind, "precision": "float32", **result}) == []


def test_batch_norm_depends_on_the_batch_in_training_mode_only():
    from bench.measure.kernel_checks import run_checks

    result = run_checks("batch", {"momentum": 0.9})
    assert result["batch_dependence_training"] > 1e-2
    assert result["batch_dependence_inference"] < 1e-6
    assert kernel_check_failures({"normalizer_kind": "batch", "precision": "float32", **result}) == []


def test_a_layer_leaking_across_the_batch_is_flagged():
    from bench.measure.kernel_checks import run_checks

    result = run_checks("layer", {}, layer_factory=leaky_layer)
    assert result["batch_dependence_inference"] > 1e-2
    failures = kernel_check_failures({"normalizer_kind": "layer", "precision": "float32", **result})
    assert [f.split(" ")[0] for f in failures] == ["batch_dependence_training", "batch_dependence_inference"]


def test_an_xla_disagreement_or_nan_is_flagged():
    record = {"normalizer_kind": "batch", "precision": "float32", "batch_dependence_training": 0.3,
              "batch_dependence_inference": 0.0, "xla_max_rel_diff": 3e-3}
    assert kernel_check_failures(record) == ["xla_max_rel_diff 0.003 (XLA and plain kernels disagree)"]
    assert kernel_check_failures({**record, "xla_max_rel_diff": float("nan")})
    assert kernel_check_failures({**record, "precision": "mixed_bfloat16", "xla_max_rel_diff": 3e-3}) == []


def test_checks_are_computed_once_per_configuration(monkeypatch):
    from bench.measure import kernel_checks

    calls = []
    monkeypatch.setattr(kernel_checks, "run_checks", lambda *a: calls.append(a) or {"xla_max_rel_diff": 0.0})
    monkeypatch.setattr(kernel_checks, "_CACHE", {})
    for _ in range(3):
        record = {}
        kernel_checks.record_checks(record, "layer", {"epsilon": 1e-3}, "float32")
        assert record == {"xla_max_rel_diff": 0.0}
    assert len(calls) == 1


def test_a_check_that_cannot_run_is_a_warning(monkeypatch):
    from bench.measure import kernel_checks

    monkeypatch.setattr(kernel_checks, "_CACHE", {})
    monkeypatch.setattr(kernel_checks, "run_checks", lambda *a: (_ for _ in ()).throw(RuntimeError("no XLA")))
    record = {"warnings": []}
    kernel_checks.record_checks(record, "layer", {}, "float32")
    assert record["warnings"] == ["kernel checks could not run: RuntimeError: no XLA"]


def test_stateful_training_calls_do_not_fake_an_xla_disagreement():
    """Renorm's training output reads statistics its previous call moved: both compilations must
    start from the same state, or every renorm case would be flagged."""
    from bench.measure.kernel_checks import run_checks

    result = run_checks("batch", {"renorm": True, "renorm_momentum": 0.9, "momentum": 0.9})
    assert result["xla_max_rel_diff"] < 1e-4
