"""Layer-suite tables: slowdown relative to BatchNorm, with and without XLA, from literal timings."""

from bench.analysis.frame import records_frame
from report.layer_tables import is_layer_suite, layer_summary, slowdown_rows


def record(normalizer, kind, jit, median):
    return {"suite": "lt", "workload": "layer", "status": "ok", "device": "cpu", "normalizer": normalizer,
            "normalizer_kind": kind, "shape": "cifar_64", "batch_size": 64, "precision": "float32", "pass": "forward",
            "mode": "training", "jit_compile": jit, "layer_step_seconds": {"median": median},
            "layer_samples_per_sec": 64 / median, "achieved_gb_per_s": 1.0, "bandwidth_gb_per_s": 40.0,
            "bandwidth_fraction": 0.025, "ceiling_kind": "cache-resident", "framework_gb_per_s": 5.0,
            "framework_fraction": 0.2, "timing_cv": 0.02, "axes": {"jit_compile": jit}}


FRAME = records_frame([record("batch", "batch", False, 0.004), record("group", "group", False, 0.012),
                       record("batch", "batch", True, 0.005), record("group", "group", True, 0.005)])


def test_slowdown_against_bn_at_the_same_xla_setting():
    header, rows = slowdown_rows(FRAME)
    assert header == ["device", "backend", "shape", "batch_size", "precision", "pass", "mode", "group / BN (no XLA)",
                      "group / BN (XLA)", "XLA speed-up batch", "XLA speed-up group"]
    assert rows == [["cpu", "tensorflow", "cifar_64", "64", "float32", "forward", "training", "3.00x", "1.00x",
                     "0.80x", "2.40x"]]  # records from before the backend axis read tensorflow


def test_backends_are_never_pooled():
    """GN against BN on each backend separately (GN 3x BN on one, 1.5x on the other)."""
    records = []
    for backend, group_median in (("tensorflow", 0.012), ("jax", 0.006)):
        for r in (record("batch", "batch", False, 0.004), record("group", "group", False, group_median)):
            r.update(backend=backend, axes={"backend": backend, "jit_compile": False})
            records.append(r)
    header, rows = slowdown_rows(records_frame(records))
    assert [(row[1], row[-1]) for row in rows] == [("jax", "1.50x"), ("tensorflow", "3.00x")]


def test_summary_has_the_roofline_columns():
    assert is_layer_suite(FRAME)
    header, rows = layer_summary(FRAME)
    assert header[-9:] == ["median ms", "samples/s", "GB/s", "ceiling GB/s", "ceiling", "of ceiling",
                           "framework GB/s", "of framework", "CV"]
    assert rows[0][:4] == ["cpu", "batch", "False", "4"]
    assert rows[0][-6:] == ["40", "cache-resident", "2%", "5", "20%", "2.0%"]


def test_one_row_per_dtype_even_though_the_axis_is_stored_as_precision():
    records = []
    for dtype, median in (("float32", 0.004), ("mixed_bfloat16", 0.002)):
        r = record("batch", "batch", False, median)
        r.update(precision=dtype, axes={"dtype": dtype, "jit_compile": False})
        records.append(r)
    header, rows = layer_summary(records_frame(records))
    assert "dtype" in header
    at = header.index("dtype")
    assert sorted((row[at], row[header.index("median ms")]) for row in rows) == [("float32", "4"),
                                                                                 ("mixed_bfloat16", "2")]
