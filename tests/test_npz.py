"""bench.data.npz: a user's own arrays as a suite's dataset, checked before anything runs."""

import json

import numpy as np
import pytest

from bench.cli import main
from bench.data import load_dataset, train_size

SUITE = """
name: own_data
dataset: {{name: npz, path: {path}{extra}}}
model: {{name: {model}, widths: [8]}}
training: {{epochs: 1, batch_size: 16}}
normalizers: {{batch: {{}}, layer: {{}}}}
devices: [cpu]
timing: {{min_rounds: 3, max_time: 0.02, warmup_rounds: 1}}
"""


def arrays(n_train=96, n_test=32, shape=(6, 6), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, *shape)).astype("float32")
    y = rng.integers(0, classes, n_train + n_test)
    return {"x_train": x[:n_train], "y_train": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}


def write_npz(folder, name="data.npz", **overrides):
    data = {**arrays(), **overrides}
    np.savez(folder / name, **{k: v for k, v in data.items() if v is not None})
    return name


def check(write_suite, path, model="cnn", extra=""):
    return main(["check", str(write_suite(SUITE.format(path=path, model=model, extra=extra)))])


def test_a_good_file_loads_with_a_channel_axis_and_its_own_split(tmp_path):
    write_npz(tmp_path)
    dataset = load_dataset("npz", {"path": str(tmp_path / "data.npz"), "classes": 0, "input_scale": 2.0})
    assert dataset.x_train.shape == (96, 6, 6, 1) and dataset.x_test.shape == (32, 6, 6, 1)
    assert dataset.classes == 3 and dataset.y_train.dtype == np.int32
    assert dataset.x_train[0, 0, 0, 0] == pytest.approx(2 * arrays()["x_train"][0, 0, 0])
    assert train_size("npz", {"path": str(tmp_path / "data.npz"), "classes": 0}) == 96


@pytest.mark.parametrize("overrides, message", [
    ({"x_test": None, "y_test": None}, "missing array(s) x_test, y_test"),
    ({"y_train": np.zeros(50, int)}, "y_train must hold one label per example (96), got shape (50,)"),
    ({"x_test": np.zeros((32, 5, 5))}, "x_train examples are (6, 6) but x_test examples are (5, 5)"),
    ({"y_test": np.full(32, -1)}, "labels must be >= 0, found -1"),
    ({"y_train": np.full(96, 0.5)}, "y_train must hold integer class labels"),
    ({"x_train": np.full((96, 6, 6), np.nan)}, "x_train has 3456 NaN or infinite value(s)"),
    ({"y_train": np.zeros(96, int), "y_test": np.zeros(32, int)}, "needs at least 2 classes"),
])
def test_bad_arrays_are_one_line_errors_naming_the_file(tmp_path, write_suite, capsys, overrides, message):
    path = write_npz(tmp_path, **overrides)
    assert check(write_suite, path) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "dataset.path: " in err and path in err and message in err, err


def test_missing_file_label_range_rank_and_non_npz_files(tmp_path, write_suite, capsys):
    assert check(write_suite, "absent.npz") == 2
    assert "absent.npz: no such file" in capsys.readouterr().err
    write_npz(tmp_path)
    assert check(write_suite, "data.npz", extra=", classes: 2") == 2
    assert "label 2 is out of range for classes: 2" in capsys.readouterr().err
    flat = write_npz(tmp_path, "flat.npz", x_train=np.zeros((96, 12)), x_test=np.zeros((32, 12)))
    assert check(write_suite, flat) == 2
    assert "cnn needs images" in capsys.readouterr().err
    assert check(write_suite, flat, model="mlp") == 0
    (tmp_path / "junk.npz").write_text("not numpy")
    assert check(write_suite, "junk.npz") == 2
    assert "junk.npz: not a NumPy .npz file" in capsys.readouterr().err
    np.savez(tmp_path / "objects.npz", **{**arrays(), "x_train": np.array([{"a": 1}] * 96, dtype=object)})
    assert check(write_suite, "objects.npz") == 2  # refused, never unpickled
    assert "Object arrays cannot be loaded" in capsys.readouterr().err


@pytest.mark.tensorflow
def test_an_npz_suite_runs_end_to_end(tmp_path, write_suite):
    write_npz(tmp_path)
    suite = write_suite(SUITE.format(path="data.npz", model="cnn", extra=""))
    assert main(["run", str(suite), "--results", str(tmp_path / "results"), "--no-report"]) == 0
    records = [json.loads(line) for line in (tmp_path / "results" / "latest" / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["status"] == "ok" and r["dataset"] == "npz" for r in records)
    assert all(r["steps"] == 96 // 16 and 0 <= r["test_accuracy"] <= 1 for r in records)
