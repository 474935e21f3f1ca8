"""Runner behaviour (failures as data, Ctrl-C, resume) and one real end-to-end run of a tiny suite."""

import json
import subprocess
import sys

import pytest

from bench.cli import main
from bench.store import RunStore
from tests.conftest import FIXTURES

pytestmark = pytest.mark.tensorflow
TINY = str(FIXTURES / "suites" / "tiny.yaml")
TINY_CPU_CASES = 8  # batch: 2 batch sizes x 2 momenta; group and layer: 2 batch sizes each


def read_records(results):
    return [json.loads(line) for line in (results / "latest" / "cases.jsonl").read_text().splitlines()]


def test_tiny_suite_end_to_end(tmp_path, capsys):
    import tensorflow as tf

    results = tmp_path / "results"
    assert main(["run", TINY, "--results", str(results)]) == 0
    out = capsys.readouterr().out
    report = results / "latest" / "report.html"
    assert out.strip().splitlines()[-1] == f"report: {report.resolve()}"

    records = read_records(results)
    cpu = [r for r in records if r["device"] == "cpu"]
    gpu = [r for r in records if r["device"] == "gpu"]
    assert len(cpu) == TINY_CPU_CASES and len(gpu) == TINY_CPU_CASES
    for record in cpu:
        assert record["status"] == "ok", record["error"]
        assert 0.0 <= record["test_accuracy"] <= 1.0 and 0.0 <= record["test_accuracy_training_mode"] <= 1.0
        assert record["nan_rate"] == 0.0 and record["weights_finite"] is True
        assert record["steps"] == 120 // record["batch_size"]  # 160 samples, 25% held out, 1 epoch
        assert record["train_samples_per_sec"] > 0 and record["infer_samples_per_sec"] > 0
        assert record["train_step_seconds"]["rounds"] >= 3
    layer = [r for r in cpu if r["normalizer"] == "layer"]
    assert all(r["momentum"] is None and r["not_applicable"] == ["momentum"] for r in layer)
    if not tf.config.list_physical_devices("GPU"):
        assert all(r["status"] == "skipped" and "no GPU" in r["error"] for r in gpu)

    info = json.loads((results / "latest" / "run.json").read_text())
    assert info["state"] == "complete" and info["framework"]["tensorflow"] == tf.__version__
    assert info["suites"][0]["document"]["name"] == "tiny"

    html = report.read_text()
    assert "tiny/group/batch_size=16/seed=0/cpu" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html

    bench_json = results / "latest" / "benchmarks.json"
    assert len(json.loads(bench_json.read_text())["benchmarks"]) == 2 * TINY_CPU_CASES
    compare = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(bench_json)],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stderr
    assert "tiny/batch/batch_size=8,momentum=0.9/seed=0/cpu" in compare.stdout


def fake_measure(fail_on=(), interrupt_on=()):
    """Stand-in for bench.measure.case.measure_case: instant, and faulty on request."""
    def measure(case, dataset, record, benchmarks):
        if case.case_id in interrupt_on:
            raise KeyboardInterrupt
        if case.case_id in fail_on:
            raise RuntimeError("simulated failure")
        record.update(status="ok", test_accuracy=0.5, nan_rate=0.0)
        return record

    return measure


def test_a_failing_case_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    import bench.measure.case as measure_case

    bad = "tiny/group/batch_size=8/seed=0/cpu"
    monkeypatch.setattr(measure_case, "measure_case", fake_measure(fail_on={bad}))
    results = tmp_path / "results"
    assert main(["run", TINY, "--results", str(results), "--no-report"]) == 0
    records = {r["case_id"]: r for r in read_records(results)}
    assert len(records) == 2 * TINY_CPU_CASES
    assert records[bad]["status"] == "failed" and "RuntimeError: simulated failure" in records[bad]["error"]
    assert sum(r["status"] == "ok" for r in records.values()) == TINY_CPU_CASES - 1


def test_interrupt_keeps_finished_cases_and_resume_runs_only_the_rest(tmp_path, monkeypatch, capsys):
    import bench.measure.case as measure_case

    third = "tiny/batch/batch_size=16,momentum=0.9/seed=0/cpu"
    monkeypatch.setattr(measure_case, "measure_case", fake_measure(interrupt_on={third}))
    results = tmp_path / "results"
    assert main(["run", TINY, "--results", str(results), "--no-report"]) == 130
    assert "resume with: normbench run --resume" in capsys.readouterr().err
    store = RunStore.open(results, "latest")
    assert store.read_info()["state"] == "interrupted"
    cpu = [r for r in store.load().records if r["device"] == "cpu"]
    assert len(cpu) == 2  # the two cases before the interrupted one

    seen = []
    def counting(case, dataset, record, benchmarks):
        seen.append(case.case_id)
        return fake_measure()(case, dataset, record, benchmarks)

    monkeypatch.setattr(measure_case, "measure_case", counting)
    assert main(["run", "--resume", store.run_id, "--results", str(results), "--no-report"]) == 0
    records = store.load().records
    assert len(records) == len({r["case_id"] for r in records}) == 2 * TINY_CPU_CASES
    assert seen[0] == third and len(seen) == TINY_CPU_CASES - 2
    assert store.read_info()["state"] == "complete"


def test_resume_rejects_suite_files(tmp_path, capsys):
    assert main(["run", TINY, "--resume", "latest", "--results", str(tmp_path)]) == 2
    assert "give no suite files" in capsys.readouterr().err
