"""A layer-suite case, measured for real on a small input: every roofline field filled and consistent."""

import pytest

from bench.results.records import new_record
from bench.suite import expand, load_suite

pytestmark = pytest.mark.tensorflow

LAYER_SUITE = """
name: tiny_layer
workload: layer
normalizers:
  batch: {}
  group: {groups: 32}
layer: {shape: cifar_64, batch_size: 2}
grid:
  pass: [forward, forward_backward]
devices: [cpu]
timing: {min_rounds: 3, max_time: 0.01, warmup_rounds: 1}
"""


def test_layer_cases_fill_the_roofline_fields(write_suite):
    from bench.measure.layer_case import measure_layer_case

    benchmarks = []
    for case in expand(load_suite(write_suite(LAYER_SUITE))):
        record = measure_layer_case(case, new_record(case, "t"), benchmarks)
        tensors = 2 if record["pass"] == "forward" else 5
        assert record["status"] == "ok" and record["workload"] == "layer"
        assert record["bytes_moved"] == tensors * 2 * 32 * 32 * 64 * 4
        # the rates come from the timings pytest-benchmark kept for this case (its own entries, not the record)
        layer, ceiling = benchmarks[-1]["stats"]["median"], benchmarks[-2]["stats"]["median"]
        assert record["layer_step_seconds"]["median"] == layer
        assert record["achieved_gb_per_s"] == pytest.approx(record["bytes_moved"] / layer / 1e9)
        assert record["framework_gb_per_s"] == pytest.approx(2 * 2**26 * 4 / ceiling / 1e9)
        # a 0.5 MiB tensor: cache-resident wherever sysfs reports a cache, judged against a copy of its size
        assert record["ceiling_kind"] in ("cache-resident", "memory") and record["bandwidth_gb_per_s"] > 0
        assert record["layer_samples_per_sec"] == pytest.approx(2 / layer)
        assert record["timing_cv"] >= 0 and record["test_accuracy"] is None and record["case_seconds"] > 0
    # per case: the copy kernel's benchmark (measured right after the layer), then the layer's
    assert [b["group"] for b in benchmarks].count("bandwidth") == 4 and len(benchmarks) == 8


def test_layer_suites_are_validated(write_suite):
    from bench.core.errors import SuiteError

    bad = LAYER_SUITE.replace("shape: cifar_64", "shape: alexnet")
    with pytest.raises(SuiteError, match=r"layer.shape: must be one of"):
        load_suite(write_suite(bad))
    with pytest.raises(SuiteError, match=r": dataset: unknown key"):
        load_suite(write_suite(LAYER_SUITE + "dataset: digits\n"))
    with pytest.raises(SuiteError, match=r"normalizers.group.groups: 48 groups do not divide .* 64"):
        load_suite(write_suite(LAYER_SUITE.replace("groups: 32", "groups: 48")))
    with pytest.raises(SuiteError, match=r"workload: must be one of 'model', 'layer'"):
        load_suite(write_suite(LAYER_SUITE.replace("workload: layer", "workload: kernel")))
