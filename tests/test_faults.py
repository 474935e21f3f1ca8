"""Fault injection: whatever one case does to its worker, the run completes and loses nothing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.cli import main
from bench.core.faults import VARIABLE
from tests.conftest import ROOT

pytestmark = pytest.mark.tensorflow

SUITE = """
name: faulty
dataset: {name: synthetic, samples: 80, classes: 2, image_size: 4}
model: {name: mlp, widths: [4]}
training: {epochs: 1, batch_size: 8}
normalizers:
  batch: {}
  layer: {}
grid:
  epsilon: [0.001, 0.01, 0.1]
devices: [cpu]
timing: {min_rounds: 1, max_time: 0.005, warmup_rounds: 0, case_timeout: 10}
"""
CASES = 6


def run_with_faults(tmp_path, monkeypatch, faults: str):
    suite = tmp_path / "faulty.yaml"
    suite.write_text(SUITE)
    monkeypatch.setenv(VARIABLE, faults)
    results = tmp_path / "results"
    assert main(["run", str(suite), "--results", str(results), "--no-report"]) == 0
    lines = (results / "latest" / "cases.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len({r["case_id"] for r in records}) == CASES  # nothing lost or doubled
    return {r["case_id"].split("/")[1] + "/" + r["case_id"].split("/")[2]: r for r in records}


@pytest.mark.parametrize("fault, reason", [
    ("raise", "RuntimeError: injected failure"),
    ("exit", "worker exited with code 3"),
    ("segfault", "worker killed by signal SIGSEGV"),
    ("kill", "worker killed by signal SIGKILL (out of memory, or killed from outside)"),
    ("oom", "MemoryError"),
])
def test_a_faulty_case_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch, fault, reason):
    records = run_with_faults(tmp_path, monkeypatch, f"batch/epsilon=0.01/={fault}")
    faulty = records["batch/epsilon=0.01"]
    assert faulty["status"] == "failed" and faulty["error"].startswith(reason)
    others = [r for key, r in records.items() if key != "batch/epsilon=0.01"]
    assert all(r["status"] == "ok" for r in others), [r["error"] for r in others]


def test_a_hanging_case_times_out(tmp_path, monkeypatch):
    records = run_with_faults(tmp_path, monkeypatch, "layer/epsilon=0.1/=hang")  # SUITE: case_timeout 10
    assert records["layer/epsilon=0.1"]["error"] == "timed out after 10 s (worker killed)"
    assert sum(r["status"] == "ok" for r in records.values()) == CASES - 1


def test_kill_9_of_the_runner_loses_only_the_case_in_flight(tmp_path, capsys):
    suite = tmp_path / "faulty.yaml"
    suite.write_text(SUITE)
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", str(suite), "--results", str(results),
                             "--no-report"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cases = results / "latest" / "cases.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (cases.exists() and len(cases.read_text().splitlines()) >= 2):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    kept = [json.loads(line) for line in cases.read_text().splitlines()]
    assert 2 <= len(kept) < CASES
    with open(cases, "a") as fh:  # as if the kill had landed in the middle of a write
        fh.write('{"schema_version": 1, "case_id": "faulty/batch/eps')

    assert main(["run", "--resume", "latest", "--results", str(results), "--no-report"]) == 0
    assert capsys.readouterr().err.count("skipped a broken line") == 1
    lines = cases.read_text().splitlines()
    records = [json.loads(line) for line in lines if not line.startswith('{"schema_version": 1, "case_id": "faulty/batch/eps')]
    assert len(records) == len({r["case_id"] for r in records}) == CASES
    assert records[: len(kept)] == kept  # finished records are never rewritten


def test_two_runs_started_at_once_get_separate_directories(tmp_path):
    suite = tmp_path / "faulty.yaml"
    suite.write_text(SUITE.replace("epsilon: [0.001, 0.01, 0.1]", "epsilon: [0.001]"))
    results = tmp_path / "results"
    command = [sys.executable, "-m", "bench", "run", str(suite), "--results", str(results), "--no-report"]
    procs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    for proc in procs:
        assert proc.wait(300) == 0, proc.stderr.read()
    runs = sorted(p for p in results.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 2
    for run in runs:
        records = [json.loads(line) for line in (run / "cases.jsonl").read_text().splitlines()]
        assert len(records) == 2 and all(r["run_id"] == run.name for r in records)
    assert (results / "latest").resolve() in [r.resolve() for r in runs]


def test_double_steps_is_planted_only_in_the_chosen_cases(monkeypatch):
    from bench.core import faults

    monkeypatch.setenv(faults.VARIABLE, "batch_size=32=double_steps;other=raise")
    assert faults.step_repeats("s/batch/batch_size=32/seed=0/cpu") == 2
    assert faults.step_repeats("s/batch/batch_size=8/seed=0/cpu") == 1
    faults.inject("s/batch/batch_size=32/seed=0/cpu")  # acts only in the timing phase: no error here
    monkeypatch.delenv(faults.VARIABLE)
    assert faults.step_repeats("s/batch/batch_size=32/seed=0/cpu") == 1
