"""The report's implementation section, merging runs from two environments (literal records)."""

from bench.analysis.frame import records_frame
from report.implementations import implementation_rows


def record(run_id, implementation, status="ok", accuracy=0.9, diff=None, error=None):
    return {"suite": "implementations", "run_id": run_id, "kind": "group", "implementation": implementation,
            "device": "cpu", "status": status, "test_accuracy": accuracy if status == "ok" else None,
            "train_samples_per_sec": 1000.0 if status == "ok" else None, "output_max_abs_diff": diff,
            "output_max_rel_diff": diff, "gradient_max_rel_diff": diff, "error": error}


INFOS = [{"run_id": "main", "framework": {"tensorflow": "2.21.0", "keras": "3.15.1"}},
         {"run_id": "legacy", "framework": {"tensorflow": "2.15.1", "keras": "2.15.0"}}]


def test_rows_per_implementation_and_environment():
    frame = records_frame([
        record("main", "keras"), record("main", "tfa", status="skipped", error="cannot import tfa"),
        record("legacy", "keras", accuracy=0.8), record("legacy", "tfa", accuracy=0.7, diff=1e-7),
    ])
    header, rows = implementation_rows(frame, INFOS)
    table = {(r[2], r[3]): dict(zip(header, r)) for r in rows}
    assert table[("tfa", "TensorFlow 2.21.0, Keras 3.15.1")]["skipped because"] == "cannot import tfa"
    assert table[("tfa", "TensorFlow 2.21.0, Keras 3.15.1")]["cases"] == "0 of 1"
    legacy_tfa = table[("tfa", "TensorFlow 2.15.1, Keras 2.15.0")]
    assert legacy_tfa["acc (inference)"] == "0.700" and legacy_tfa["output max abs diff"] == "1e-07"
    assert table[("keras", "TensorFlow 2.15.1, Keras 2.15.0")]["acc (inference)"] == "0.800"


def test_no_section_when_every_implementation_is_keras():
    assert implementation_rows(records_frame([record("main", "keras")]), INFOS) == ([], [])
