"""The CLI's contract for bad input: one line, exit 2, no traceback, nothing run."""

import subprocess
import sys

import pytest

from bench.cli import main
from tests.conftest import MINIMAL, ROOT


def test_check_prints_case_counts(write_suite, capsys):
    path = write_suite(MINIMAL)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok: suite 'demo', 16 cases"


def test_check_defaults_to_the_shipped_suites(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["check", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "suites/batch_size.yaml: ok" in out and "(quick)" in out
    assert "warning" not in out  # every shipped setting can take effect
    assert main(["check"]) == 0 and "warning" not in capsys.readouterr().out


def test_a_folder_stands_for_its_suite_files(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["check", "suites", "suites/extended"]) == 0
    checked = [line.split(":")[0] for line in capsys.readouterr().out.splitlines() if ": ok:" in line]
    shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "suites").glob("*.yaml"))
    extended = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "suites" / "extended").glob("*.yaml"))
    assert checked == shipped + extended and extended  # the folder's own files, not its subfolders twice
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.strip() == f"normbench: error: {tmp_path / 'empty'} has no *.yaml files"


def test_check_warns_once_per_setting_that_cannot_take_effect(write_suite, capsys):
    path = write_suite("name: f\nnormalizers: {frozen: {kind: batch, freeze_stats_after: 300}}\n"
                       "training: {epochs: 6}\ngrid: {batch_size: [16, 32]}\nseeds: [0, 1]\n")
    assert main(["check", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # 1347 training examples: batch 16 runs 6 x 84 = 504 steps (fine), batch 32 runs 6 x 42 = 252
    assert lines[1:] == [f"{path}: warning: frozen at batch_size=32: freeze_stats_after=300 is not before the "
                         "last of the 252 training steps: the statistics never freeze, so this is plain BatchNorm"]


def test_bad_suite_is_one_line_exit_2_and_nothing_runs(write_suite, tmp_path):
    path = write_suite(MINIMAL.replace("batch_size: [8, 32]", "batch_size: [8, -1]"))
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(path), "--results", str(results)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr == f"normbench: error: {path}: grid.batch_size[1]: must be >= 1, got -1\n"
    assert not results.exists()


def test_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["report", "nope", "--results", str(tmp_path)]) == 2
    assert "not a normbench run" in capsys.readouterr().err


def test_no_default_suites_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert "./suites does not exist" in capsys.readouterr().err


def test_cli_import_does_not_load_tensorflow_or_ray():
    code = ("import sys, bench.cli, bench.suite, bench.results.store, bench.execute.runner; "
            "print('tensorflow' in sys.modules, 'ray' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False False"


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_a_bad_workers_setting_is_one_line_and_nothing_runs(write_suite, tmp_path, monkeypatch, capsys, value):
    results = tmp_path / "results"
    monkeypatch.setenv("NORMBENCH_WORKERS", value)
    assert main(["run", str(write_suite(MINIMAL)), "--results", str(results)]) == 2
    assert capsys.readouterr().err == (f"normbench: error: NORMBENCH_WORKERS: must be 'auto' or a whole number "
                                       f">= 1, got {value!r}\n")
    assert not results.exists()
    with pytest.raises(SystemExit):
        main(["run", "--workers", value])
    assert f"--workers: must be 'auto' or a whole number >= 1, got {value!r}" in capsys.readouterr().err


def slowed_copy(tmp_path, factor: float):
    """The fixture run, copied twice: the second with every training throughput scaled."""
    import json
    import shutil

    from tests.conftest import FIXTURES

    results = tmp_path / "results"
    shutil.copytree(FIXTURES / "runs" / "mixed", results / "before")
    shutil.copytree(FIXTURES / "runs" / "mixed", results / "after")
    path = results / "after" / "cases.jsonl"
    lines = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("train_samples_per_sec"):
            record["train_samples_per_sec"] *= factor
        if isinstance(record.get("train_step_seconds"), dict):  # every round slower, the best one too
            record["train_step_seconds"] = {k: v / factor if k in ("min", "median") else v
                                            for k, v in record["train_step_seconds"].items()}
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    info = json.loads((results / "after" / "run.json").read_text())
    (results / "after" / "run.json").write_text(json.dumps({**info, "run_id": "after"}))
    return results


def test_compare_fails_on_a_regression_beyond_the_threshold(tmp_path, capsys):
    results = slowed_copy(tmp_path, 0.9)  # a 10% drop of every case: within the default drift bound
    assert main(["compare", "before", "after", "--results", str(results), "--fail-on", "throughput:5%"]) == 0
    out = capsys.readouterr().out
    assert ("across all 54 cases: train_samples_per_sec -10.0% (median case, best timed rounds): within this "
            "machine's run-to-run drift (35%: the default bound") in out
    assert "58 cases compared (same configuration), 0 with a changed configuration" in out
    results = slowed_copy(tmp_path / "halved", 0.5)  # twice as slow: beyond it
    assert main(["compare", "before", "after", "--results", str(results), "--fail-on", "throughput:5%"]) == 1
    assert ("REGRESSION across all 54 cases: train_samples_per_sec -50.0% (median case, best timed rounds): beyond "
            "this machine's run-to-run drift (35%") in capsys.readouterr().out
    assert main(["compare", "before", "after", "--results", str(results), "--fail-on", "throughput:60%"]) == 0
    assert "0 regression(s) beyond throughput:60%" in capsys.readouterr().out


def test_compare_rejects_a_bad_rule(tmp_path, capsys):
    results = slowed_copy(tmp_path, 1.0)
    assert main(["compare", "before", "after", "--results", str(results), "--fail-on", "speed"]) == 2
    assert "expected METRIC:N%" in capsys.readouterr().err


def test_report_of_two_runs_has_a_comparison_section(tmp_path, capsys):
    results = slowed_copy(tmp_path, 0.5)
    out = tmp_path / "both.html"
    assert main(["report", "before", "after", "--results", str(results), "-o", str(out)]) == 0
    html = out.read_text()
    assert "Comparison: mixed → after" in html and "-50.0%" in html
