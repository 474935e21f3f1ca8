"""The report, rendered from committed fixture records: no TensorFlow, no training."""

import re
import shutil
import subprocess
import sys

import pytest

from bench.results.store import RunStore
from report import write_report
from bench.analysis.frame import records_frame
from report.render import RunData, render_report
from tests.conftest import FIXTURES, ROOT

MIXED = FIXTURES / "runs" / "mixed"


@pytest.fixture
def mixed(tmp_path):
    """A copy of the fixture run (rendering writes report.html into the run directory)."""
    target = tmp_path / "results" / "mixed"
    shutil.copytree(MIXED, target)
    return RunStore(target)


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """The fixture run's report, rendered once for the tests that only read it."""
    target = tmp_path_factory.mktemp("results") / "mixed"
    shutil.copytree(MIXED, target)
    return write_report([RunStore(target)]).read_text()


def test_every_suite_has_its_section_description_and_figures(html):
    for suite in ("batch_size", "epsilon", "momentum"):
        assert f"Suite: {suite}" in html
    assert "Does BatchNorm break at small batch sizes" in html
    titles = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    assert ("Inference-mode test accuracy against batch size, mean and standard deviation over seeds; one "
            "panel per model family when the suite varies it.") in titles
    assert any(t.startswith("Fraction of non-finite training steps") for t in titles)
    assert any(t.startswith("Training-mode minus inference-mode accuracy") for t in titles)
    assert any(t.startswith("Train and inference samples/s") for t in titles)


def test_training_flag_figure_appears_when_the_test_batch_size_varies():
    records = [{"case_id": f"f/b/{e}/{s}", "suite": "f", "normalizer": "batch", "status": "ok", "seed": s,
                "eval_batch_size": e, "test_accuracy": 0.98, "test_accuracy_training_mode": 0.1 if e == 1 else 0.9,
                "axes": {"eval_batch_size": e}} for e in (1, 32) for s in (0, 1)]
    html = render_report([RunData({"run_id": "f", "suites": [{"name": "f"}]}, records, [])])
    assert 'alt="Test accuracy with training=False and with training=True against the test batch size."' in html


def test_failed_skipped_and_nan_cases_are_listed_with_reasons(html):
    assert 'class="status-failed"' in html and "larger than the" in html
    assert 'class="status-skipped"' in html and "no GPU visible to TensorFlow" in html
    assert 'class="status-nan"' in html


def test_unreadable_lines_are_reported(html):
    assert re.search(r"<h3>\d+ record line\(s\) could not be read</h3>", html) and "skipped a broken line" in html


def test_text_is_escaped(html):
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_self_contained_no_network_references(html):
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "<link" not in html


def test_environment_and_provenance(html):
    env = html[html.index('<h2 id="environment">'):html.index("Suite: ")]
    assert re.search(r"<dt>tensorflow</dt><dd>2\.21\.0</dd>", env)
    assert re.search(r"<dt>keras</dt><dd>3\.15\.1</dd>", env)
    assert "<dt>commit</dt><dd>211aeb7f05703457de78026cbfa0a1c2f56dbb78 (with uncommitted changes)</dd>" in env
    assert "<dt>host</dt><dd>vm</dd>" in env and "<dt>cpu</dt><dd>AMD EPYC</dd>" in env
    assert re.search(r"batch_size <small>\(suites/batch_size\.yaml, sha256 [0-9a-f]{12}\)</small>", env)
    assert "2026-11-24T21:01:30+00:00 / 2026-11-24T21:08:46+00:00" in env


def test_findings_come_first_and_answer_from_the_records(html):
    assert html.index('id="findings"') < html.index('id="environment"') < html.index("Suite: ")
    findings = html[html.index('id="findings"'):html.index('id="environment"')]
    assert "Accuracy (inference mode), best against runner-up" in findings
    assert "Training speed, over every timed round" not in findings or "fastest clearly" in findings


def test_a_declared_suite_without_records_is_shown_as_missing(mixed):
    info = mixed.read_info()
    info["suites"].append({"name": "not_run_yet", "source": "suites/x.yaml", "sha256": "", "description": ""})
    html = render_report([RunData(info, mixed.load().records, [])])
    assert "Suite: not_run_yet" in html and "No records yet" in html


def test_report_of_no_records_still_renders():
    html = render_report([RunData({"run_id": "empty", "suites": []}, [], [])])
    assert "normbench report" in html


def test_frame_tolerates_missing_and_malformed_fields():
    frame = records_frame([
        {"case_id": "a", "suite": "s", "status": "ok", "test_accuracy": "not a number",
         "train_step_seconds": "garbage", "normalizer": 7},
        {"case_id": "b"},
    ])
    assert len(frame) == 2
    assert frame["test_accuracy"].isna().all()
    assert frame.loc[0, "normalizer"] == "7"


def test_rendering_never_imports_tensorflow(mixed, tmp_path):
    code = ("import sys; from bench.cli import main; "
            f"rc = main(['report', {str(mixed.path)!r}, '-o', {str(tmp_path / 'r.html')!r}]); "
            "print(rc, 'tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip().splitlines()[-1] == "0 False", proc.stderr
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_hostile_records_render(tmp_path):
    """Hand-edited or corrupt records: NaN/Infinity tokens, wrong types, huge and non-ASCII text."""
    lines = [
        '{"case_id": "s/ünï/seed=0/cpu", "suite": "s", "normalizer": "ünï", "status": "ok", '
        '"test_accuracy": NaN, "train_samples_per_sec": Infinity, "batch_size": "eight", "axes": []}',
        '{"case_id": "s/x/seed=0/cpu", "suite": "s", "normalizer": "x", "status": "failed", "error": "'
        + "E" * 1_000_000 + '"}',
        '{"case_id": "s/y/seed=0/cpu", "suite": "s", "status": "ok", "test_accuracy": 0.5, "batch_size": 8, '
        '"train_step_seconds": {"median": "fast"}}',
    ]
    run = tmp_path / "run"
    run.mkdir()
    (run / "cases.jsonl").write_text("\n".join(lines) + "\n")
    (run / "run.json").write_text('{"run_id": "run", "suites": [{"name": "s"}, "not a dict"], "machine": []}')
    html = write_report([RunStore(run)]).read_text()
    assert "s/ünï/seed=0/cpu" in html and "E" * 1000 in html


PITFALLS = FIXTURES / "runs" / "pitfalls"


@pytest.fixture(scope="module")
def pitfalls_html(tmp_path_factory):
    target = tmp_path_factory.mktemp("results") / "pitfalls"
    shutil.copytree(PITFALLS, target)
    return write_report([RunStore(target)]).read_text()


def section(html, suite):
    start = html.index(f"Suite: {suite}")
    end = html.find("Suite: ", start + 10)
    return html[start:end if end > 0 else len(html)]


@pytest.mark.parametrize("suite, figure", [
    ("fine_tuning", "Accuracy on the original and the shifted data"),
    ("momentum", "The statistics monitor: per epoch"),
    ("nan_stress", "Mean NaN rate by input scale and precision"),
    ("placement", "Inference accuracy with the normalizer before vs after the activation"),
    ("small_batch", "Inference-mode test accuracy against batch size"),
])
def test_each_pitfall_suite_gets_its_figure(pitfalls_html, suite, figure):
    titles = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', section(pitfalls_html, suite))
    assert any(t.startswith(figure) for t in titles), titles


def test_figures_follow_grid_axes_not_side_effects(pitfalls_html):
    # small_batch varies momentum (two BN labels) and eval batch size (it follows batch size), but
    # neither is a grid axis: no momentum or training-flag figure there
    titles = re.findall(r'<img alt="([^"]+)"', section(pitfalls_html, "small_batch"))
    assert not any(t.startswith(("Training-mode minus", "Test accuracy with training=False")) for t in titles)


def test_fine_tuning_and_nan_columns_only_where_recorded(pitfalls_html):
    fine_tuning, placement = section(pitfalls_html, "fine_tuning"), section(pitfalls_html, "placement")
    assert "acc original, after" in fine_tuning and "acc original, after" not in placement
    assert "first NaN step" in section(pitfalls_html, "nan_stress")
    assert "first NaN step" not in placement


def test_each_start_of_a_run_says_its_backend_and_where(mixed):
    mixed.update_info(executions=[
        {"executor": "serial", "workers": 1, "threads": 2, "started_at": "2026-11-27T07:00:00+00:00"},
        {"executor": "ray", "workers": 2, "threads": 1, "ray": "2.60.0", "cluster": "embedded",
         "nodes": [{"node": "vm/93b8816c", "cpus": 2.0, "gpus": 0}], "started_at": "2026-11-27T08:00:00+00:00"},
        "not a dict"])
    html = write_report([mixed]).read_text()
    assert "serial, 1 worker(s), 2 thread(s) each, started 2026-11-27T07:00:00+00:00" in html
    assert "ray, 2 worker(s), 1 thread(s) each" in html and "vm/93b8816c (2.0 CPUs, 0 GPUs)" in html


def test_no_empty_figures_one_learning_rate_or_no_nan_at_all():
    def record(eps, lr, seed, nan_rate):
        return {"case_id": f"e/b/{eps}/{lr}/{seed}", "suite": "e", "normalizer": "batch", "status": "ok",
                "seed": seed, "epsilon": eps, "learning_rate": lr, "nan_rate": nan_rate, "test_accuracy": 0.9,
                "axes": {"epsilon": eps, "learning_rate": lr}}

    def heatmaps(records):
        html = render_report([RunData({"run_id": "e", "suites": [{"name": "e"}]}, records, [])])
        return [t for t in re.findall(r'<img alt="([^"]+)"', html) if t.startswith("Fraction of non-finite")]

    one_rate = [record(e, 0.1, s, 0.5 if e < 1e-4 else 0.0) for e in (1e-8, 1e-3) for s in (0, 1)]
    assert heatmaps(one_rate) == []
    no_nan = [record(e, lr, 0, 0.0) for e in (1e-8, 1e-3) for lr in (0.1, 2.0)]
    assert heatmaps(no_nan) == []
    some_nan = [record(e, lr, 0, 0.5 if lr > 1 else 0.0) for e in (1e-8, 1e-3) for lr in (0.1, 2.0)]
    assert len(heatmaps(some_nan)) == 1


def test_many_unreadable_lines_do_not_push_the_findings_off_the_first_screen():
    problems = [f"cases.jsonl:{n}: skipped a broken line (x)" for n in range(500)]
    html = render_report([RunData({"run_id": "p", "suites": []}, [], problems)])
    shown = html[:html.index("<details>")]
    assert "500 record line(s) could not be read" in shown and shown.count("skipped a broken line") == 3
    assert "the other 497" in html and html.count("skipped a broken line") == 500


def test_the_header_leads_with_what_ran_and_keeps_what_could_not_run_apart():
    """Cases this machine cannot run (no GPU, a backend not installed) are "not run here" with their
    reasons, apart from failures; the first line says what ran and what it decided."""
    from report.tables import run_summary

    def rec(i, status, error=None):
        return {"case_id": f"s/batch/default/seed={i}/cpu", "suite": "s", "normalizer": "batch", "seed": i,
                "device": "cpu", "status": status, "error": error, "axes": {}, "not_applicable": []}

    records = ([rec(i, "ok") for i in range(3)] + [rec(3, "nan"), rec(4, "failed", "worker killed")]
               + [rec(i, "skipped", "no GPU visible") for i in range(5, 9)] + [rec(9, "skipped", "torch missing")])
    summary = run_summary(records_frame(records))
    assert (summary["ran"], summary["ok"], summary["diverged"], summary["failed"]) == (4, 3, 1, 1)
    assert summary["not_run"] == 5 and summary["reasons"] == [("no GPU visible", 4), ("torch missing", 1)]
    html = render_report([RunData({"run_id": "h", "suites": [{"name": "s"}]}, records, [])])
    lead = html.split('<p class="lead">', 1)[1].split("</p>", 1)[0]
    assert "Ran <b>4</b> case(s): 3 trained to the end, 1\ndiverged" in lead and "<b>1</b> failed" in lead
    assert "Not run here: 5 case(s)" in html and "<li>4: no GPU visible</li>" in html


def test_the_first_screen_has_each_suites_forest_plot_and_one_sentence(html):
    """Between the header and the findings: one forest plot per suite that compares something, its
    caption the suite's one-sentence summary; the findings' tables follow."""
    from html import unescape

    from report.render import suite_findings

    glance = html.split('<h2 id="glance"', 1)[1].split('<h2 id="findings">', 1)[0]
    assert html.index('class="lead"') < html.index('<h2 id="glance"') < html.index('<h2 id="findings">')
    answers = suite_findings([RunData({}, RunStore(MIXED).load().records, [])])
    compared = [f.name for f in answers if any(v.diff is not None for v in f.headline)]
    assert compared and re.findall(r"<img alt=\"Forest plot of ([^']+)'s headline comparisons", glance) == compared
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', glance)) == len(compared)
    captions = [unescape(" ".join(c.split())) for c in re.findall(r"<figcaption>(.*?)</figcaption>", glance, re.S)]
    assert captions == [f.summary for f in answers]


def test_the_first_line_says_in_what_time_and_on_what_budget():
    from report.render import elapsed_text

    info = {"started_at": "2026-12-02T14:22:20+00:00", "finished_at": "2026-12-02T14:39:02+00:00"}
    assert elapsed_text([info]) == "16 min 42 s"
    budgeted = {**info, "budget": {"seconds": 840.0, "max_seeds": 48, "spent": True}}
    assert elapsed_text([budgeted]) == "16 min 42 s (a budget of 14 min 0 s, at most 48 seeds)"
    assert elapsed_text([{**info, "finished_at": None}]) == ""  # still running or interrupted: no time
