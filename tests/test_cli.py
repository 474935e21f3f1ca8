"""The CLI's contract for bad input: one line, exit 2, no traceback, nothing run."""

import subprocess
import sys

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


def test_cli_import_does_not_load_tensorflow():
    code = "import sys, bench.cli, bench.suite, bench.store, bench.runner; print('tensorflow' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False"
