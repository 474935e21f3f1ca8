"""The normalizer registry: discovered from bench/normalizers, framework-free to import, and the
properties that replaced the ``kind in (...)`` rules."""

import subprocess
import sys

import pytest

from bench import normalizers
from bench.core.params import Param
from bench.normalizers import NORMALIZERS, NormalizerKind, register, unregister
from tests.conftest import ROOT

BUILT_IN = {"batch", "group", "layer", "reference_batch", "rms", "instance", "none", "factory", "dyt"}


def test_every_module_in_the_package_is_a_registered_kind():
    modules = {p.stem for p in (ROOT / "bench" / "normalizers").glob("*.py") if not p.stem.startswith("_")}
    assert BUILT_IN <= set(NORMALIZERS) == modules
    assert all(NORMALIZERS[name].name == name and callable(NORMALIZERS[name].build) for name in NORMALIZERS)


def test_the_registry_imports_no_framework():
    """Suites validate without TensorFlow: discovering every kind imports no framework."""
    code = ("import sys, bench.normalizers, bench.suite.catalog; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_properties_replace_the_name_rules():
    """Batch statistics and moving averages belong to the BatchNorms; only 'none' keeps the bias."""
    assert {n for n, k in NORMALIZERS.items() if k.batch_statistics} >= {"batch", "reference_batch"}
    assert {n for n, k in NORMALIZERS.items() if k.moving_statistics} >= {"batch", "reference_batch"}
    assert not NORMALIZERS["layer"].batch_statistics and not NORMALIZERS["group"].moving_statistics
    assert [n for n, k in NORMALIZERS.items() if k.keeps_bias] == ["none"]
    assert [n for n, k in NORMALIZERS.items() if k.open_options] == ["factory"]
    for kind in NORMALIZERS.values():
        if kind.moving_statistics:
            assert "momentum" in kind.options, kind.name


def test_other_backends_are_refused_what_is_tensorflow_code():
    assert NORMALIZERS["batch"].unsupported({"implementation": "keras"}, "jax") is None
    assert "TensorFlow code" in NORMALIZERS["batch"].unsupported({"implementation": "reference"}, "jax")
    assert "freeze_stats_after" in NORMALIZERS["batch"].unsupported({"freeze_stats_after": 5}, "torch")
    assert "reference BatchNorm" in NORMALIZERS["reference_batch"].unsupported({}, "jax")
    assert NORMALIZERS["layer"].unsupported({}, "torch") is None


def test_a_registered_kind_is_usable_in_suites_and_its_properties_reach_the_checks(write_suite):
    """One registry entry is all a kind needs: the loader accepts it with its options, and the
    precise_bn warning and the kernel-check judgement read its properties, not its name."""
    from bench.analysis.kernel_flags import kernel_check_failures
    from bench.suite import expand, load_suite

    register(NormalizerKind("scratch_bn", {"momentum": Param(float, 0.9), "width": Param(int, 2)}, "a test kind",
                            lambda **options: None, batch_statistics=True, moving_statistics=True))
    try:
        suite = load_suite(write_suite("name: s\nnormalizers: {mine: {kind: scratch_bn, width: 3}, layer: {}}\n"
                                       "training: {precise_bn_samples: 64, epochs: 1}\ndevices: [cpu]\n"))
        cases = {case.normalizer: case for case in expand(suite)}
        assert cases["mine"].normalizer_options == {"momentum": 0.9, "width": 3}
        assert cases["mine"].warnings == [] and "keeps no moving statistics" in cases["layer"].warnings[0]
        record = {"normalizer_kind": "scratch_bn", "precision": "float32", "batch_dependence_training": 0.5}
        assert kernel_check_failures(record) == []
        assert kernel_check_failures({**record, "normalizer_kind": "layer"})
    finally:
        unregister("scratch_bn")
    assert "scratch_bn" not in normalizers.NORMALIZERS


def test_an_unknown_kind_names_the_known_ones(write_suite):
    from bench.core.errors import SuiteError
    from bench.suite import load_suite

    with pytest.raises(SuiteError, match=r"normalizers.x.kind: unknown normalizer 'nope' \(known: .*rms"):
        load_suite(write_suite("name: s\nnormalizers: {x: {kind: nope}}\n"))


def test_a_kind_that_takes_the_users_options_is_told_by_its_registry_entry(write_suite):
    """open_options, not the name 'factory', lets a kind take any key and own the grid axes nothing
    else owns."""
    from bench.suite import expand, load_suite

    register(NormalizerKind("scratch_open", {"factory": Param(str)}, "a test kind", lambda **o: None,
                            open_options=True))
    try:
        suite = load_suite(write_suite("name: s\nnormalizers:\n  mine: {kind: scratch_open, factory: "
                                       "'tests.test_normalizers:scratch_layer'}\n  layer: {}\n"
                                       "grid: {gain: [1, 3]}\ndevices: [cpu]\n"))
        cases = expand(suite)
        mine = [c for c in cases if c.normalizer == "mine"]
        assert sorted(c.normalizer_options["gain"] for c in mine) == [1, 3]
        assert all("gain" in c.not_applicable for c in cases if c.normalizer == "layer")
    finally:
        unregister("scratch_open")


def scratch_layer(gain: float = 1.0):
    """A user's layer factory for the test above (never called: only its signature is checked)."""
    raise AssertionError("not built in this test")
