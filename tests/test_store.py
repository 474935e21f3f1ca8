import json
import os

import pytest

from bench.core.errors import NormbenchError
from bench.results.records import FIELDS
from bench.results.store import ResultsUnwritable, RunStore, clean, load_records


@pytest.fixture
def store(tmp_path):
    return RunStore.create(tmp_path / "results", {"suites": [], "state": "running"})


def test_create_writes_run_json_and_latest(store):
    assert store.read_info()["run_id"] == store.run_id
    latest = store.path.parent / "latest"
    assert latest.is_symlink() and latest.resolve() == store.path.resolve()


def test_runs_never_share_a_directory(tmp_path):
    results = tmp_path / "results"
    stores = [RunStore.create(results, {}) for _ in range(5)]
    assert len({s.path for s in stores}) == 5
    assert (results / "latest").resolve() == stores[-1].path.resolve()


def test_append_then_load_round_trips(store):
    store.save_case({"case_id": "a", "status": "ok", "test_accuracy": 0.5}, [])
    store.save_case({"case_id": "b", "status": "nan", "final_loss": float("nan")}, [])
    loaded = store.load()
    assert loaded.problems == []
    assert [r["case_id"] for r in loaded.records] == ["a", "b"]
    assert set(loaded.records[0]) == set(FIELDS)  # missing fields read as null
    assert loaded.records[1]["final_loss"] is None  # NaN stored as null: every line is strict JSON
    for line in (store.path / "cases.jsonl").read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_torn_last_line_is_reported_and_the_next_append_survives(store):
    store.save_case({"case_id": "a", "status": "ok"}, [])
    with open(store.path / "cases.jsonl", "a") as fh:
        fh.write('{"case_id": "torn", "sta')  # a kill in the middle of a write
    loaded = store.load()
    assert [r["case_id"] for r in loaded.records] == ["a"]
    assert len(loaded.problems) == 1 and "cases.jsonl:2" in loaded.problems[0]

    resumed = RunStore.open(store.path.parent, store.run_id)
    resumed.save_case({"case_id": "b", "status": "ok"}, [])
    assert [r["case_id"] for r in resumed.load().records] == ["a", "b"]
    assert resumed.finished_case_ids() == {"a", "b"}


def test_duplicate_case_ids_keep_the_last(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"case_id": "a", "status": "failed"}\n{"case_id": "a", "status": "ok"}\n')
    records = load_records(path).records
    assert len(records) == 1 and records[0]["status"] == "ok"


def test_lines_that_are_not_records_are_problems(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('[1, 2]\n{"no_case_id": 1}\n{"case_id": "x", "schema_version": 99}\n')
    loaded = load_records(path)
    assert loaded.records == [] and len(loaded.problems) == 3
    assert "newer than this normbench" in loaded.problems[2]


def test_open_by_id_path_or_latest(store):
    results = store.path.parent
    assert RunStore.open(results, store.run_id).path == store.path.resolve()
    assert RunStore.open(results, str(store.path)).path == store.path.resolve()
    assert RunStore.open(results, "latest").path == store.path.resolve()
    with pytest.raises(NormbenchError, match="not a normbench run"):
        RunStore.open(results, "nope")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_results_directory_fails_up_front(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(NormbenchError, match="not writable"):
        RunStore.create(locked, {})


def test_results_path_that_is_a_file_fails_up_front(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a directory")
    with pytest.raises(NormbenchError, match="not writable"):
        RunStore.create(blocker, {})


def test_merge_keeps_the_last_timing_of_recorded_cases_in_pytest_benchmark_layout(store):
    store.save_case({"case_id": "a", "status": "ok"}, [{"name": "a-old", "stats": {}}])
    store.save_case({"case_id": "a", "status": "ok"}, [{"name": "a", "stats": {}}])  # a rerun
    store.save_case({"case_id": "b", "status": "failed"}, [])
    store._append_line("benchmarks.jsonl", {"case_id": "orphan", "benchmarks": [{"name": "o"}]})
    with open(store.path / "benchmarks.jsonl", "ab") as fh:
        fh.write(b'{"case_id": "torn", "bench')  # a write cut off by a full disk
    store = RunStore.open(store.path.parent, store.run_id)  # as a resume does
    store.save_case({"case_id": "c", "status": "ok"}, [{"name": "c", "stats": {}}])
    assert store.merge_benchmarks({"node": "h"}, {"id": "c"}) == 2
    document = json.loads((store.path / "benchmarks.json").read_text())
    assert [b["name"] for b in document["benchmarks"]] == ["a", "c"]
    assert {"machine_info", "commit_info", "datetime", "version"} <= set(document)


def test_a_refused_write_is_one_error_naming_the_path_and_the_resume_command(store, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(ResultsUnwritable, match=f"No space left on device.*--resume {store.run_id}"):
        store.save_case({"case_id": "a", "status": "ok"}, [{"name": "a"}])


def test_finish_writes_the_state_in_place_when_no_temporary_file_fits(store, monkeypatch):
    store.update_info(machine={"host": "h", "cpus": 2, "python": "3.11"}, argv=["normbench", "run"])
    def no_room(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bench.results.store.atomic_write", no_room)
    assert store.finish("interrupted") is True
    assert store.read_info()["state"] == "interrupted" and store.read_info()["finished_at"]


def test_clean_replaces_non_finite_floats():
    assert clean({"a": [1.0, float("inf")], "b": float("-inf")}) == {"a": [1.0, None], "b": None}
