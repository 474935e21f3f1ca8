"""Runner behaviour and one real end-to-end run of a tiny suite (trains real Keras models)."""

import errno
import json
import signal
import subprocess
import sys
import time

import pytest

from bench.cli import main
from bench.results.store import RunStore
from bench.suite import Case
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.tensorflow
TINY = str(FIXTURES / "suites" / "tiny.yaml")
TINY_CPU_CASES = 8  # batch: 2 batch sizes x 2 momenta; group and layer: 2 batch sizes each


def read_records(results):
    return [json.loads(line) for line in (results / "latest" / "cases.jsonl").read_text().splitlines()]


def cpu_records(results):
    return {r["case_id"]: r for r in read_records(results) if r["device"] == "cpu"}


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


def test_resume_of_a_finished_run_runs_nothing(tmp_path, capsys, write_suite):
    # one normalizer of the tiny suite: 2 CPU cases in one worker, 2 GPU cases skipped (a failing
    # case would cost a fresh worker each; this test is about bookkeeping)
    text = open(TINY).read().replace("  batch: {}\n  group: {groups: 2}\n", "").replace("  momentum: [0.9, 0.99]\n", "")
    suite = write_suite(text)
    results = tmp_path / "results"
    assert main(["run", str(suite), "--results", str(results), "--no-report"]) == 0
    before = (results / "latest" / "cases.jsonl").read_text()
    assert [json.loads(line)["status"] for line in before.splitlines()].count("ok") == 2
    capsys.readouterr()
    assert main(["run", "--resume", "latest", "--results", str(results), "--no-report"]) == 0
    assert "4 already recorded" in capsys.readouterr().err
    assert (results / "latest" / "cases.jsonl").read_text() == before


def test_resume_rejects_suite_files(tmp_path, capsys):
    assert main(["run", TINY, "--resume", "latest", "--results", str(tmp_path)]) == 2
    assert "give no suite files" in capsys.readouterr().err


def test_ctrl_c_keeps_finished_cases_and_resume_runs_only_the_rest(tmp_path):
    results = tmp_path / "results"
    command = [sys.executable, "-m", "bench", "run", TINY, "--results", str(results), "--no-report"]
    # started with SIGINT ignored, as a shell's background job (`cmd &`) is: kill -INT must still stop it
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    cases = results / "latest" / "cases.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if cases.exists() and len(cpu_records(results)) >= 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "resume with: normbench run --resume" in err and "Traceback" not in err
    store = RunStore.open(results, "latest")
    assert store.read_info()["state"] == "interrupted"
    kept = cpu_records(results)
    assert 2 <= len(kept) < TINY_CPU_CASES

    assert main(["run", "--resume", "latest", "--results", str(results), "--no-report"]) == 0
    records = read_records(results)
    assert len(records) == len({r["case_id"] for r in records}) == 2 * TINY_CPU_CASES
    assert all(cpu_records(results)[cid]["finished_at"] == kept[cid]["finished_at"] for cid in kept)
    assert store.read_info()["state"] == "complete"


def test_a_full_disk_stops_the_run_cleanly_and_resume_completes_it(tmp_path, capsys, monkeypatch):
    results = tmp_path / "results"
    real_append = RunStore._append_line
    calls = []

    def append_until_full(self, name, value):
        calls.append(name)
        if len(calls) == 8 + 2 * 2 + 2:  # 8 skipped GPU records, 2 cases, then the 3rd case's record
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, name, value)

    monkeypatch.setattr(RunStore, "_append_line", append_until_full)
    assert main(["run", TINY, "--results", str(results), "--no-report"]) == 1
    err = capsys.readouterr().err
    assert err.count("No space left on device") == 1 and "Traceback" not in err
    assert f"resume with: normbench run --resume {RunStore.open(results, 'latest').run_id}" in err
    store = RunStore.open(results, "latest")
    assert store.read_info()["state"] == "interrupted"
    assert len(cpu_records(results)) == 2  # the 3rd case's timing line is there, its record is not

    monkeypatch.setattr(RunStore, "_append_line", real_append)
    assert main(["run", "--resume", "latest", "--results", str(results), "--no-report"]) == 0
    records = read_records(results)
    assert len(records) == len({r["case_id"] for r in records}) == 2 * TINY_CPU_CASES
    benchmarks = json.loads((results / "latest" / "benchmarks.json").read_text())["benchmarks"]
    assert sorted(b["extra_info"]["case_id"] for b in benchmarks) == sorted(2 * list(cpu_records(results)))
    assert store.read_info()["state"] == "complete"


def test_a_budgeted_run_feeds_planned_cases_to_the_running_worker_and_resume_keeps_them(tmp_path, monkeypatch, capsys):
    """--budget's plan (here: seed 7 of two cases, planted) joins the running worker's queue, is kept
    in run.json with the budget and each suite's looks, and is not rerun on resume."""
    import bench.execute.settle
    from bench.suite import expand, load_suite

    suite = load_suite(TINY)
    chosen = [c for c in expand(suite) if c.device == "cpu" and c.normalizer == "layer"]
    planted = [Case.from_dict({**c.to_dict(), "seed": 7, "case_id": c.case_id.replace("seed=0", "seed=7")})
               for c in chosen]
    plans = iter([planted])
    monkeypatch.setattr(bench.execute.settle.SeedPlanner, "_plan", lambda self, pending: next(plans, []))
    results = tmp_path / "results"
    assert main(["run", TINY, "--results", str(results), "--budget", "10m", "--max-seeds", "8", "--no-report"]) == 0
    err = capsys.readouterr().err
    assert f"+{len(planted)} cases: more seeds where headline comparisons are open" in err
    assert "budget: 1 round(s) of added seeds" in err
    ids = set(cpu_records(results))
    assert {c.case_id for c in planted} <= ids and len(ids) == TINY_CPU_CASES + len(planted)
    info = json.loads((results / "latest" / "run.json").read_text())
    assert [c["case_id"] for c in info["extra_cases"]] == [c.case_id for c in planted]
    assert info["budget"] == {"seconds": 600.0, "max_seeds": 8, "spent": False, "rounds": 1}
    assert info["suites"][0]["verdicts"]["looks"] == 3  # 1 seed: looks at 2, 4 and 8
    assert info["state"] == "complete"
    assert main(["run", "--resume", "latest", "--results", str(results), "--no-report"]) == 0
    assert "18 cases in 1 suite(s), 18 already recorded" in capsys.readouterr().err
    assert len(read_records(results)) == 2 * TINY_CPU_CASES + len(planted)  # GPU cases skipped, nothing twice
    # a finished run resumed with a new budget (what a spent budget's last line suggests) adds seeds
    more = [Case.from_dict({**c.to_dict(), "seed": 9, "case_id": c.case_id.replace("seed=7", "seed=9")})
            for c in planted]
    plans = iter([more])
    assert main(["run", "--resume", "latest", "--results", str(results), "--budget", "5m", "--no-report"]) == 0
    assert {c.case_id for c in more} <= set(cpu_records(results))
    assert json.loads((results / "latest" / "run.json").read_text())["budget"]["seconds"] == 300.0
