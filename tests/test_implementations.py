"""Implementations side by side: Keras vs tensorflow-addons GroupNorm (legacy environment only),
Keras vs the reference BatchNorm (both environments), and the clear skip where tfa cannot load.

``tox -e py-tfa`` runs this module (and the other Keras-2-sensitive ones) on TensorFlow 2.15."""

import importlib.util

import pytest

from bench.core.errors import ImplementationUnavailable

pytestmark = pytest.mark.tensorflow
TOLERANCE = 1e-5  # float32; observed: 1.4e-6 absolute on outputs, 4e-7 relative on gradients


def tfa_importable() -> bool:
    if importlib.util.find_spec("tensorflow_addons") is None:
        return False
    try:
        from bench.normalizers.keras_layers.addons import tfa_group_normalization

        tfa_group_normalization(groups=2)
        return True
    except ImplementationUnavailable:
        return False


def test_reference_batch_norm_matches_keras_forward_and_gradients():
    from bench.measure.implementations import compare_with_keras

    diffs = compare_with_keras("batch", {"momentum": 0.9, "epsilon": 1e-3, "center": True, "scale": True,
                                         "freeze_stats_after": 0, "implementation": "reference"})
    # gamma's gradient sums 1,024 products of order 10: compare gradients relative to their size
    assert 0 <= diffs["output_max_abs_diff"] < TOLERANCE and diffs["output_max_rel_diff"] < TOLERANCE
    assert diffs["gradient_max_rel_diff"] < TOLERANCE


@pytest.mark.skipif(not tfa_importable(), reason="tensorflow-addons imports only in the legacy env (tox -e py-tfa)")
@pytest.mark.parametrize("groups", [1, 4, 8])
def test_tfa_group_norm_matches_keras(groups):
    from bench.measure.implementations import compare_with_keras

    diffs = compare_with_keras("group", {"groups": groups, "epsilon": 1e-3, "center": True, "scale": True,
                                         "implementation": "tfa"})
    assert diffs["output_max_abs_diff"] < TOLERANCE and diffs["gradient_max_rel_diff"] < TOLERANCE


@pytest.mark.skipif(tfa_importable(), reason="tensorflow-addons is importable here")
def test_unimportable_tfa_is_a_skipped_record_with_the_reason(write_suite):
    from bench.suite import expand, load_suite
    from bench.execute.in_worker import run_case

    suite = load_suite(write_suite("""
name: impl
normalizers: {group_tfa: {kind: group, implementation: tfa}}
training: {epochs: 1}
devices: [cpu]
"""))
    (case,) = expand(suite)
    benchmarks = []
    record = run_case(case, "t", {}, benchmarks)
    assert record["status"] == "skipped" and record["implementation"] == "tfa"
    assert "TensorFlow 2.13-2.15" in record["error"] and "tox -e bench-tfa" in record["error"]
    assert benchmarks == [] and record["test_accuracy"] is None
