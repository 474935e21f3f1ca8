import math

import numpy as np
import pytest

from bench.analysis import history
from bench.analysis.compare import DEFAULT_DRIFT
from bench.analysis.history import Run, as_run, change_points, machine_drift, newest_records, series

CASES = [f"speed/{n}/batch_size={b}/seed=0/cpu" for n in ("batch", "group", "layer") for b in (4, 32, 128)]


def record(case_id, speed, accuracy=0.95, reference=0.003):
    return {"suite": "speed", "case_id": case_id, "config_hash": "h-" + case_id, "status": "ok", "seed": 0,
            "train_samples_per_sec": speed, "infer_samples_per_sec": 2 * speed, "test_accuracy": accuracy,
            "reference_seconds": reference}


def make_history(n_runs=7, slow_from=3, seed=0, machine="vm (AMD EPYC, 2 CPUs)"):
    """Runs of one suite on one machine: each run shifts every case by the machine's drift (8%),
    each case by its own noise (5%); from run ``slow_from`` on every case is twice as slow, as
    NORMBENCH_FAULTS=double_steps makes it."""
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(n_runs):
        drift = rng.normal(0, 0.08)
        slow = 0.5 if slow_from is not None and i >= slow_from else 1.0
        records = [record(c, 1000.0 * (k + 1) * slow * math.exp(drift + rng.normal(0, 0.05)),
                          0.95 + rng.normal(0, 0.002)) for k, c in enumerate(CASES)]
        runs.append(Run(f"run{i}", machine, f"c{i}", f"2026-12-0{1 + i // 9}T1{i % 9}:00:00+00:00", records))
    return runs


@pytest.mark.parametrize("seed", range(5))
def test_a_planted_2x_slowdown_from_the_fourth_run_is_marked_there_and_nowhere_else(seed):
    runs = make_history(seed=seed)
    speeds = series(runs, "train_samples_per_sec")
    assert len(speeds) == len(CASES)
    assert [s.changes for s in speeds] == [[3]] * len(CASES)
    assert all(s.changes == [] for s in series(runs, "test_accuracy"))
    levels, changes = history.run_levels(runs, "train_samples_per_sec")
    assert changes == [3] and math.exp(levels[3] - levels[2]) == pytest.approx(0.5, rel=0.25)


@pytest.mark.parametrize("seed", range(5))
def test_honest_histories_have_no_change(seed):
    runs = make_history(n_runs=10, slow_from=None, seed=seed)
    assert all(s.changes == [] for s in series(runs, "train_samples_per_sec"))
    assert history.run_levels(runs, "train_samples_per_sec")[1] == []


def test_change_points_on_literal_series():
    assert change_points([100, 101, 99, 50, 51, 49]) == [3]
    assert change_points([100, 101, 99]) == []  # too short to tell
    assert change_points([0.90, 0.90, 0.90, 0.80, 0.80, 0.80], ratio=False) == [3]
    assert change_points([100, None, 99, float("nan"), 50, 51, 49]) == [4]


def test_the_drift_of_a_machine_comes_from_its_history_and_skips_its_changes():
    runs = make_history(n_runs=8, slow_from=5, seed=1)
    drift = machine_drift(runs, ["train_samples_per_sec"])
    bound = drift.bound("train_samples_per_sec")
    assert drift is not DEFAULT_DRIFT and "earlier runs" in drift.source
    assert 0.05 < bound < 0.45  # the 8% run drift, widened by t with few shifts; the 2x step is left out
    assert machine_drift(runs[:2]) is DEFAULT_DRIFT  # one shift cannot tell a drift


def test_history_for_takes_earlier_runs_of_the_same_machine_with_shared_configurations():
    runs = make_history(n_runs=4, slow_from=None)
    other = Run("elsewhere", "gpu-box (Xeon, 32 CPUs)", "c", "2026-12-01T10:30:00+00:00", runs[0].records)
    unrelated = Run("unrelated", runs[0].machine, "c", "2026-12-01T10:30:00+00:00",
                    [{**r, "config_hash": "x"} for r in runs[0].records])
    assert [r.run_id for r in history.history_for(runs[2], [*runs, other, unrelated])] == ["run0", "run1"]


def test_newest_records_keep_each_configuration_once():
    runs = make_history(n_runs=3, slow_from=None)
    newest = newest_records(list(reversed(runs)))
    assert len(newest) == len(CASES) and {r["train_samples_per_sec"] for r in newest} == \
        {r["train_samples_per_sec"] for r in runs[2].records}
    twice = Run("r", "m", "c", "2026-12-02", [*runs[0].records, runs[0].records[0]])
    assert len(newest_records([twice])) == len(CASES) + 1  # one run's records are never dropped


def test_machine_identity_comes_from_run_json():
    info = {"run_id": "r", "started_at": "2026-12-02T10:00:00+00:00", "commit": {"id": "abcdef0123456789", "dirty": True},
            "machine": {"host": "vm", "cpu": "AMD EPYC", "cpu_count": 2, "system": "Linux 6.1"}}
    run = as_run(info, [])
    assert (run.machine, run.commit) == ("vm (AMD EPYC, 2 CPUs)", "abcdef0123+dirty")
    assert as_run({**info, "machine": {**info["machine"], "system": "Linux 6.9"}}, []).machine == run.machine
    assert as_run({}, []).machine == "unknown host (unknown CPU, ? CPUs)"


# -- machines side by side and the report's view (records of the committed default run) --------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.analysis import machines  # noqa: E402
from report.history import history_view  # noqa: E402
from report.render import RunData, render_report  # noqa: E402

DEFAULT_RUN = Path(__file__).parent.parent / "docs" / "runs" / "20261202-142220-ee30d3"


def default_run(suite="batch_size"):
    info = json.loads((DEFAULT_RUN / "run.json").read_text())
    info["suites"] = [s for s in info["suites"] if s.get("name") == suite]
    records = [json.loads(line) for line in (DEFAULT_RUN / "cases.jsonl").read_text().splitlines()]
    return info, [r for r in records if r.get("suite") == suite and r.get("status") == "ok"]


def on(host, run_id, started, records, info):
    machine = {**info["machine"], "host": host}
    return RunData({**info, "run_id": run_id, "started_at": started, "machine": machine},
                   [{**r, "run_id": run_id} for r in records], [])


def test_a_report_over_two_machines_shows_a_column_per_machine_and_judges_accuracy_agreement():
    info, records = default_run()
    rng = np.random.default_rng(0)
    other = [{**r, "train_samples_per_sec": r["train_samples_per_sec"] * 3,
              "test_accuracy": r["test_accuracy"] + (0.2 if "group/batch_size=4/" in r["case_id"] else 0)
              + rng.normal(0, 0.002)} for r in records]
    runs = [on("cpu-box", "a", "2026-12-02T10:00:00+00:00", records, info),
            on("gpu-box", "b", "2026-12-02T11:00:00+00:00", other, info)]
    view = history_view(runs)
    names = view["machines"]["machines"]
    assert [n.split(" ")[0] for n in names] == ["cpu-box", "gpu-box"]
    assert view["machines"]["header"][1:] == [f"{t} on {n}" for n in names for t in ("train samples/s", "acc (inference)")]
    assert len(view["machines"]["rows"]) == len(records)
    verdicts = {row[0]: row[-1] for row in view["agreement"]}
    assert verdicts["batch_size/group/batch_size=4/cpu"] == "differ beyond seed noise"
    assert sum(v == "agree within seed noise" for v in verdicts.values()) >= len(verdicts) - 2
    html = render_report(runs)
    assert "Machines side by side" in html and "train samples/s on cpu-box" in html
    assert view["suites"] == []  # one run per machine: no history


def test_a_report_over_a_history_marks_the_planted_slowdown_at_the_fourth_run():
    info, records = default_run()
    rng = np.random.default_rng(3)
    runs = []
    for i in range(6):
        drift = rng.normal(0, 0.08)
        slow = 0.5 if i >= 3 else 1.0
        changed = [{**r, "train_samples_per_sec": r["train_samples_per_sec"] * slow * math.exp(drift + rng.normal(0, 0.05))}
                   for r in records]
        runs.append(on("vm", f"run{i}", f"2026-12-0{i + 1}T10:00:00+00:00", changed, info))
    view = history_view(runs)
    assert view["machines"] is None and len(view["suites"]) == 1
    suite = view["suites"][0]
    changes = [row[0] for row in suite["rows"] if row[4]]
    assert changes == ["run3"] and suite["rows"][3][4].startswith("whole run changed")
    assert len(suite["moved"]) == len(records) and all("from run run3" in line for line in suite["moved"])
    html = render_report(runs)
    assert "History: batch_size on vm" in html and html.count("whole run changed") == 1
    assert html.count("batch_size/batch/batch_size=4/seed=0/cpu") >= 1


def test_one_machine_has_no_columns_to_compare():
    info, records = default_run()
    runs = [history.as_run({**info, "run_id": "a"}, records), history.as_run({**info, "run_id": "b"}, records)]
    assert machines.shared_configurations(runs)[1] == [] and machines.accuracy_agreement(runs) == []


# -- the commands: a report over a folder of runs, compare with the folder as history -----------------

from bench.cli import main  # noqa: E402


def write_run(results, run_id, started, records, info, factor=1.0):
    """A run directory whose every timing (samples/s, median and best rounds) is ``factor`` as fast."""
    path = results / run_id
    path.mkdir(parents=True)
    scaled = []
    for r in records:
        r = {**r, "run_id": run_id}
        for phase in ("train", "infer"):
            r[f"{phase}_samples_per_sec"] *= factor
            r[f"{phase}_step_seconds"] = {k: v / factor if k in ("min", "median") else v
                                          for k, v in r[f"{phase}_step_seconds"].items()}
        scaled.append(json.dumps(r))
    (path / "cases.jsonl").write_text("\n".join(scaled) + "\n")
    (path / "run.json").write_text(json.dumps({**info, "run_id": run_id, "started_at": started}))


def test_compare_takes_the_drift_from_the_folders_history_and_report_reads_the_folder(tmp_path, capsys):
    info, records = default_run()
    results = tmp_path / "results"
    for i, factor in enumerate([1.0, 1.02, 0.99, 1.01, 0.98, 1.0]):  # a quiet machine: +-2% per run
        write_run(results, f"run{i}", f"2026-12-02T1{i}:00:00+00:00", records, info, factor)
    write_run(results, "run6", "2026-12-02T16:00:00+00:00", records, info, 0.8)  # 20% slower
    assert main(["compare", "run5", "run6", "--results", str(results), "--fail-on", "throughput:5%"]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION across all 36 cases: train_samples_per_sec -20.0% (median case, best timed rounds): beyond " \
           "this machine's run-to-run drift (" in out and "estimated from 6 earlier runs" in out
    alone = tmp_path / "alone"  # the same pair without history: the default bound lets -20% pass
    for run in ("run5", "run6"):
        (alone / run).mkdir(parents=True)
        for name in ("cases.jsonl", "run.json"):
            (alone / run / name).write_bytes((results / run / name).read_bytes())
    assert main(["compare", "run5", "run6", "--results", str(alone), "--fail-on", "throughput:5%"]) == 0
    assert "within this machine's run-to-run drift (35%: the default bound" in capsys.readouterr().out
    assert main(["report", str(results), "-o", str(tmp_path / "report.html")]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "History: batch_size on" in html and html.count("<td>run") == 7


def test_an_unreadable_run_beside_them_only_shortens_the_history(tmp_path, capsys):
    info, records = default_run()
    results = tmp_path / "results"
    for i in range(2):
        write_run(results, f"run{i}", f"2026-12-02T1{i}:00:00+00:00", records, info)
    (results / "broken").mkdir()
    (results / "broken" / "run.json").write_text("{not json")
    assert main(["compare", "run0", "run1", "--results", str(results), "--fail-on", "throughput:5%"]) == 0
    assert "warning: history:" in capsys.readouterr().err
