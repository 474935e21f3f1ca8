"""bench.data.keras_cache: keras.datasets' files read from a (temporary) Keras cache, never downloaded."""

import gzip
import json
import os
import pickle

import numpy as np
import pytest

from bench.cli import main
from bench.data import example_shape, load_dataset, train_size

SUITE = """
name: cached
dataset: {{name: keras, id: {id}{extra}}}
model: {{name: mlp, widths: [8]}}
training: {{epochs: 1, batch_size: 16}}
normalizers: {{batch: {{}}, layer: {{}}}}
devices: [cpu]
timing: {{min_rounds: 3, max_time: 0.02, warmup_rounds: 1}}
"""


def images(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def labels(n, classes, seed):
    return np.arange(n, dtype=np.uint8) % classes if seed == 0 else np.random.default_rng(seed).integers(0, classes, n)


def place_mnist(datasets, n_train=64, n_test=32):
    datasets.mkdir(parents=True, exist_ok=True)
    np.savez(datasets / "mnist.npz", x_train=images(n_train, (28, 28), 1), y_train=labels(n_train, 10, 0),
             x_test=images(n_test, (28, 28), 2), y_test=labels(n_test, 10, 0))


def place_fashion(datasets, n_train=48, n_test=16):
    folder = datasets / "fashion-mnist"
    folder.mkdir(parents=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as out:
            out.write(bytes(8) + labels(n, 10, 0).astype(np.uint8).tobytes())
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as out:
            out.write(bytes(16) + images(n, (28, 28), 3).tobytes())


def place_cifar(datasets, classes, n_per_batch=20):
    inner = "cifar-10-batches-py" if classes == 10 else "cifar-100-python"
    folder = datasets / f"{inner}-target" / inner
    folder.mkdir(parents=True)
    key = b"labels" if classes == 10 else b"fine_labels"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"] if classes == 10 else ["train", "test"]
    for i, name in enumerate(names):
        batch = {b"data": images(n_per_batch, (3072,), 10 + i), key: [int(v) for v in labels(n_per_batch, classes, 5)],
                 b"batch_label": name.encode()}
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache that this test owns: KERAS_HOME points at it, for this process and the
    workers it starts."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "datasets"


def test_each_dataset_reads_keras_layout_as_nhwc_with_scaled_pixels(cache):
    place_mnist(cache)
    place_fashion(cache)
    place_cifar(cache, 10)
    place_cifar(cache, 100)
    expected = {"mnist": ((28, 28, 1), 64, 32, 10), "fashion_mnist": ((28, 28, 1), 48, 16, 10),
                "cifar10": ((32, 32, 3), 100, 20, 10), "cifar100": ((32, 32, 3), 20, 20, 100)}
    for name, (shape, n_train, n_test, classes) in expected.items():
        options = {"id": name, "train_examples": 0, "test_examples": 0, "input_scale": 1 / 255}
        data = load_dataset("keras", options)
        assert data.x_train.shape == (n_train, *shape) and data.x_test.shape == (n_test, *shape), name
        assert data.classes == classes and data.y_train.dtype == np.int32 and data.x_train.dtype == np.float32
        assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0 and data.x_train.max() > 0.9
        assert example_shape("keras", options) == shape
    mnist = load_dataset("keras", {"id": "mnist", "train_examples": 10, "test_examples": 5, "input_scale": 1.0})
    assert mnist.x_train.shape == (10, 28, 28, 1) and len(mnist.y_test) == 5
    assert np.array_equal(mnist.x_train[3, :, :, 0], images(64, (28, 28), 1)[3])  # Keras's order, unscaled
    # CIFAR stores channels first; pixel (row 1, column 2) of channel 2 sits at 2*1024 + 1*32 + 2
    cifar = load_dataset("keras", {"id": "cifar10", "train_examples": 0, "test_examples": 0, "input_scale": 1.0})
    assert cifar.x_train[0, 1, 2, 2] == images(20, (3072,), 10)[0, 2 * 1024 + 32 + 2]


def test_no_cached_copy_is_one_line_that_says_where_to_put_it(cache, write_suite, capsys):
    assert main(["check", str(write_suite(SUITE.format(id="cifar10", extra="")))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "dataset.id: no cached copy of cifar10 in " + str(cache) in err
    assert str(cache / "cifar-10-batches-py-target" / "cifar-10-batches-py") in err
    assert "cifar-10-python.tar.gz" in err and "never downloads" in err


def test_more_examples_than_the_cache_has_and_tampered_pickles_are_refused(cache, write_suite, capsys):
    place_mnist(cache)
    assert main(["check", str(write_suite(SUITE.format(id="mnist", extra=", train_examples: 60001")))]) == 2
    assert "dataset.id: mnist has 60000 train examples, train_examples: 60001 asks for more" in capsys.readouterr().err
    folder = place_cifar(cache, 100)
    (folder / "train").write_bytes(pickle.dumps({b"data": os.system}))  # a pickle that names a function
    with pytest.raises(ValueError, match="not a CIFAR batch .*refusing to load (posix|os).system"):
        load_dataset("keras", {"id": "cifar100", "train_examples": 0, "test_examples": 0, "input_scale": 1.0})


def test_a_suite_on_a_cached_keras_dataset_runs_end_to_end(cache, tmp_path, write_suite):
    place_mnist(cache)
    suite = write_suite(SUITE.format(id="mnist", extra=", train_examples: 48"))
    assert train_size("keras", {"id": "mnist", "train_examples": 48, "test_examples": 0}) == 48
    assert main(["run", str(suite), "--results", str(tmp_path / "results"), "--no-report"]) == 0
    records = [json.loads(line) for line in (tmp_path / "results" / "latest" / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["status"] == "ok" and r["dataset"] == "keras" for r in records)
    assert all(r["steps"] == 48 // 16 and 0 <= r["test_accuracy"] <= 1 for r in records)
