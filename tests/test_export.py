"""normbench export: records into a real MLflow store (read back with MlflowClient) and into
Parquet (read back with pandas), from committed records of the docs' default run."""

import json
import shutil
import sys

import pandas as pd
import pytest

from bench.cli import main
from bench.export.parts import split
from bench.export.resolved import configuration, resolved_cases
from bench.export.to_parquet import dtype, export_parquet
from bench.results.fields import FIELDS
from bench.results.store import RunStore
from tests.conftest import FIXTURES, ROOT

DOCS_RUN = ROOT / "docs" / "runs" / "20261202-142220-ee30d3"
# A few real records of the default run: BN statistics per epoch (momentum), diverged cases
# (epsilon), a layer suite, a case this machine could not run; one is turned into a failure.
PICKED = ["momentum/batch/momentum=0.9,epochs=1/seed=0/cpu", "momentum/batch/momentum=0.999,epochs=1/seed=0/cpu",
          "momentum/batch/momentum=0.9,epochs=1/seed=0/gpu"]
FAILED = "momentum/batch/momentum=0.9,epochs=1/seed=0/gpu"


def _docs_records():
    return [json.loads(line) for line in (DOCS_RUN / "cases.jsonl").read_text().splitlines()]


def make_run(folder):
    """A copy of the docs run (its run.json, so the cases can be rebuilt) with a few records."""
    records = _docs_records()
    picked = [r for r in records if r["case_id"] in PICKED]
    picked += [r for r in records if r["suite"] == "epsilon" and r["status"] == "nan"][:2]
    picked += [r for r in records if r["suite"] == "layer_throughput" and r["status"] == "ok"][:2]
    for record in picked:
        if record["case_id"] == FAILED:
            record.update(status="failed", error="worker process died (exit code -9)")
    run = folder / DOCS_RUN.name
    run.mkdir(parents=True)
    shutil.copy(DOCS_RUN / "run.json", run / "run.json")
    (run / "cases.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked))
    return RunStore.open(folder, str(run))


def test_a_record_splits_into_params_metrics_series_and_tags_by_the_field_table():
    record = next(r for r in _docs_records() if r["case_id"] == PICKED[0])
    parts = split(record)
    assert parts.tags["normbench.status"] == "ok" and parts.tags["normbench.case_id"] == PICKED[0]
    assert parts.tags["normbench.config_hash"] == record["config_hash"]
    for metric in ("test_accuracy", "nan_rate", "train_samples_per_sec", "infer_samples_per_sec", "final_loss",
                   "steps", "case_seconds"):
        assert parts.metrics[metric] == pytest.approx(record[metric]), metric
    assert parts.metrics["train_step_seconds.median"] == record["train_step_seconds"]["median"]
    for param in ("seed", "batch_size", "epsilon", "momentum", "learning_rate", "optimizer", "normalizer"):
        assert param in parts.params and param not in parts.metrics, param
    assert parts.params["momentum"] == "0.9" and parts.params["axis.epochs"] == "1"
    assert not {"started_at", "finished_at"} & set(parts.params)
    assert not any(key in parts.params for key, value in record.items() if value is None)
    layers = {entry["layer"] for entry in record["bn_statistics"]}
    for layer in layers:
        points = parts.series[f"bn_statistics.{layer}.mean_error"]
        expected = [(e["epoch"], e["mean_error"]) for e in record["bn_statistics"] if e["layer"] == layer]
        assert points == expected and points
    assert "bn_statistics" not in parts.params


def test_the_resolved_configuration_comes_only_from_a_case_with_the_records_config_hash():
    store = RunStore.open("results", str(DOCS_RUN))
    cases, problems = resolved_cases(store.read_info())
    assert problems == []
    record = next(r for r in _docs_records() if r["case_id"] == PICKED[0])
    config = configuration(record, cases)
    suite = next(s for s in store.read_info()["suites"] if s["name"] == "momentum")["document"]
    assert config["model.widths"] == suite["model"]["widths"] and config["training.epochs"] == 1
    assert config["normalizer.momentum"] == 0.9 and config["training.batch_size"] == record["batch_size"]
    assert configuration({**record, "config_hash": "0" * 16}, cases) == {}
    old = [json.loads(line) for line in (FIXTURES / "runs" / "mixed" / "cases.jsonl").read_text().splitlines()[:3]]
    assert all(configuration(r, cases) == {} for r in old)  # records from before config hashes


def test_parquet_round_trips_every_record_with_the_field_tables_types(tmp_path):
    store = make_run(tmp_path / "results")
    records = store.load().records
    path, rows, problems = export_parquet(store)
    assert path == store.path / "records.parquet" and rows == len(records) == 7 and problems == []
    frame = pd.read_parquet(path)
    assert list(frame.columns) == list(FIELDS)
    assert {c: str(frame[c].dtype) for c in frame} == {name: str(pd.Series([], dtype=dtype(f)).dtype)
                                                      for name, f in FIELDS.items()}
    assert str(frame["seed"].dtype) == "Int64" and str(frame["test_accuracy"].dtype) == "Float64"
    for i, record in enumerate(records):
        for name, field in FIELDS.items():
            value, cell = record.get(name), frame[name].iloc[i]
            if value is None:
                assert pd.isna(cell), (name, cell)
            elif field.type in ("list", "mapping", "timing"):
                assert json.loads(cell) == value, name
            else:
                assert cell == value, name
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert schema.field("train_samples_per_sec").metadata[b"unit"] == b"samples/s"
    assert json.loads(schema.metadata[b"normbench.run"])["commit"]["id"]


def test_parquet_keeps_a_record_whose_value_does_not_fit_and_says_so(tmp_path):
    run = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "runs" / "mixed", run)
    lines = (run / "cases.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "seed": "zero", "brand_new_field": {"a": 1}})
    (run / "cases.jsonl").write_text("\n".join(lines))  # the fixture's torn last line stays torn
    store = RunStore.open(tmp_path, str(run))
    out = tmp_path / "out" / "mixed.parquet"
    path, rows, problems = export_parquet(store, out)
    assert path == out and rows == len(store.load().records)
    assert any("skipped a broken line" in p for p in problems)
    assert any(p.startswith(f"{first['case_id']}: seed: 'zero' is not of type integer") for p in problems)
    frame = pd.read_parquet(out)
    row = frame[frame["case_id"] == first["case_id"]].iloc[0]
    assert pd.isna(row["seed"]) and row["test_accuracy"] == first["test_accuracy"]
    assert json.loads(row["brand_new_field"]) == {"a": 1} and frame.columns[-1] == "brand_new_field"
    assert row["normalizer_kind"] == first["kind"]  # a schema-1 record, upgraded on load


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory):
    """One real SQLite tracking store with the small run exported once (creating the store's
    tables takes MLflow tens of seconds, so the tests below share it)."""
    pytest.importorskip("mlflow")
    from bench.export.to_mlflow import export_mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    store = make_run(folder / "results")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    first = export_mlflow(store, uri)
    return store, uri, first


def _runs(uri):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("normbench")
    return client, client.search_runs([experiment.experiment_id], max_results=1000)


@pytest.mark.slow
def test_mlflow_holds_one_run_per_case_nested_under_one_per_suite(mlflow_store):
    store, uri, first = mlflow_store
    records = {r["case_id"]: r for r in store.load().records}
    assert (first.created, first.existing, first.suites, first.problems) == (7, 0, 3, [])
    client, runs = _runs(uri)
    parents = {r.data.tags["normbench.suite"]: r for r in runs if r.data.tags["normbench.level"] == "suite"}
    children = {r.data.tags["normbench.case_id"]: r for r in runs if r.data.tags["normbench.level"] == "case"}
    assert sorted(parents) == ["epsilon", "layer_throughput", "momentum"] and set(children) == set(records)
    cases, _ = resolved_cases(store.read_info())
    info = store.read_info()
    for case_id, run in children.items():
        record, tags = records[case_id], run.data.tags
        assert tags["mlflow.parentRunId"] == parents[record["suite"]].info.run_id
        assert run.info.run_name == case_id
        assert tags["normbench.status"] == record["status"] and tags["normbench.config_hash"] == record["config_hash"]
        assert tags["normbench.machine"] == info["machine"]["host"] == "vm"
        assert tags["normbench.commit"] == info["commit"]["id"] and tags["normbench.run_id"] == store.run_id
        assert run.info.status == ("FAILED" if record["status"] == "failed" else "FINISHED")
        expected = split(record, configuration(record, cases))
        assert run.data.params == expected.params
        assert ("training.epochs" if record["workload"] == "model" else "layer.shape") in run.data.params
        latest = {key: max(points)[1] for key, points in expected.series.items()}  # a series shows its last step
        assert run.data.metrics == pytest.approx({**expected.metrics, **latest})
    ok = records[PICKED[0]]
    assert children[PICKED[0]].data.metrics["test_accuracy"] == pytest.approx(ok["test_accuracy"])
    layer = ok["bn_statistics"][0]["layer"]
    history = client.get_metric_history(children[PICKED[0]].info.run_id, f"bn_statistics.{layer}.variance_ratio")
    assert [(m.step, m.value) for m in history] == [(e["epoch"], pytest.approx(e["variance_ratio"]))
                                                    for e in ok["bn_statistics"] if e["layer"] == layer]
    assert children[FAILED].data.tags["normbench.error"] == "worker process died (exit code -9)"


@pytest.mark.slow
def test_exporting_again_adds_no_runs_and_replaces_a_half_written_one(mlflow_store, capsys):
    store, uri, _ = mlflow_store
    client, before = _runs(uri)
    assert main(["export", str(store.path), "--to", "mlflow", "--tracking-uri", uri]) == 0
    assert capsys.readouterr().out.startswith("mlflow: 0 case run(s) logged, 7 already there, under 3 suite run(s)")
    _, again = _runs(uri)
    assert sorted(r.info.run_id for r in again) == sorted(r.info.run_id for r in before)

    half = next(r for r in before if r.data.tags.get("normbench.case_id") == PICKED[1])
    client.update_run(half.info.run_id, status="RUNNING")  # as an export killed mid-case leaves it
    from bench.export.to_mlflow import export_mlflow

    done = export_mlflow(store, uri)
    assert (done.created, done.existing) == (1, 6)
    _, after = _runs(uri)
    replaced = [r for r in after if r.data.tags.get("normbench.case_id") == PICKED[1]]
    assert len(after) == len(before) and len(replaced) == 1 and replaced[0].info.status == "FINISHED"
    assert replaced[0].info.run_id != half.info.run_id


def test_export_parquet_from_the_command_line(tmp_path, capsys):
    store = make_run(tmp_path / "results")
    out = tmp_path / "records.parquet"
    assert main(["export", store.run_id, "--results", str(tmp_path / "results"), "--to", "parquet",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"parquet: 7 records of {store.path} in {out}\n"
    assert len(pd.read_parquet(out)) == 7


@pytest.mark.parametrize("argv, message", [
    (["export", "nowhere", "--to", "parquet"], "nowhere: not a normbench run (no run.json)"),
    (["export", str(DOCS_RUN), "--to", "csv"], "--to must be mlflow or parquet, got 'csv'"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    assert main([*argv, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("normbench: error: ") and message in err


@pytest.mark.parametrize("to, module", [("parquet", "pyarrow"), ("mlflow", "mlflow")])
def test_a_missing_extra_says_how_to_install_it(to, module, tmp_path, monkeypatch, capsys):
    store = make_run(tmp_path / "results")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    for name in [m for m in sys.modules if m.startswith(f"{module}.")]:
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["export", str(store.path), "--to", to, "--tracking-uri", "sqlite:///x.db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith("pip install normbench[export]")
    assert not (store.path / "records.parquet").exists()
