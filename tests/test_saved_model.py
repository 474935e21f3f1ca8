"""bench.measure.saved_model: a saved .keras model with its BatchNorm layers swapped per case."""

import json

import numpy as np
import pytest

from bench.cli import main

SUITE = """
name: saved
dataset: {{name: synthetic, samples: 160, classes: 4, image_size: {size}}}
model: {{file: {file}{extra}}}
training: {{epochs: 1, batch_size: 16}}
normalizers: {{batch: {{}}, group: {{groups: 2}}}}
{grid}seeds: [0]
devices: [cpu]
timing: {{min_rounds: 3, max_time: 0.02, warmup_rounds: 1}}
"""


def save_model(path, batch_norms=2):
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(6, 6, 1))
    x = inputs
    for _ in range(2):
        x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
        if batch_norms:
            x = keras.layers.BatchNormalization()(x)
            batch_norms -= 1
        x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    model.save(path)
    return model


def suite(write_suite, file="model.keras", size=6, extra="", grid=""):
    return write_suite(SUITE.format(file=file, size=size, extra=extra, grid=grid))


def test_missing_or_foreign_files_stop_before_keras_loads(tmp_path, write_suite, capsys):
    assert main(["check", str(suite(write_suite, "absent.keras"))]) == 2
    assert capsys.readouterr().err.strip().endswith("model.file: absent.keras: no such file")
    (tmp_path / "model.keras").write_text("not an archive")
    assert main(["check", str(suite(write_suite))]) == 2
    assert "model.file: model.keras: not a Keras .keras archive" in capsys.readouterr().err


@pytest.mark.tensorflow
def test_every_batch_norm_is_swapped_and_weights_are_kept_or_reinitialised(tmp_path):
    import keras

    from bench.measure.layers import build_normalizer
    from bench.measure.saved_model import load_with_normalizers, replaced_layers

    saved = save_model(tmp_path / "m.keras")
    make = lambda: build_normalizer("group", {"groups": 2, "epsilon": 1e-3, "center": True, "scale": True})  # noqa: E731
    for weights in ("keep", "reinit"):
        model = load_with_normalizers(str(tmp_path / "m.keras"), "BatchNormalization", weights, make)
        assert replaced_layers(model) == 2
        names = [type(layer).__name__ for layer in model.layers]
        assert "BatchNormalization" not in names and names.count("SwappedNormalization") == 2
        inner = [layer.inner for layer in model.layers if hasattr(layer, "inner")]
        assert all(isinstance(layer, keras.layers.GroupNormalization) for layer in inner)
        same = [np.array_equal(a, b) for a, b in zip(saved.get_layer(index=1).get_weights(),
                                                     model.get_layer(index=1).get_weights())]
        assert all(same) == (weights == "keep")  # the first conv's kernel
        assert model(np.zeros((2, 6, 6, 1), "float32")).shape == (2, 4)


@pytest.mark.tensorflow
def test_a_model_without_the_layer_or_of_the_wrong_shape_is_one_line(tmp_path, write_suite, capsys):
    save_model(tmp_path / "model.keras", batch_norms=0)
    assert main(["check", str(suite(write_suite))]) == 2
    err = capsys.readouterr().err
    assert "model.file: building for saved/batch/default/seed=0/cpu raised ValueError" in err
    assert "has no BatchNormalization layer to replace (its layers: " in err
    save_model(tmp_path / "model.keras")
    assert main(["check", str(suite(write_suite, size=8))]) == 2
    assert "takes (6, 6, 1) and gives 4 outputs; the dataset has examples of (8, 8, 1)" in capsys.readouterr().err


@pytest.mark.tensorflow
def test_a_saved_model_suite_runs_end_to_end(tmp_path, write_suite):
    save_model(tmp_path / "model.keras")
    path = suite(write_suite, grid="grid:\n  weights: [reinit, keep]\n")
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--no-report"]) == 0
    records = [json.loads(line) for line in (tmp_path / "results" / "latest" / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    assert all(r["model"] == "file" and r["replaced_layers"] == 2 for r in records)
    batch = [r for r in records if r["normalizer"] == "batch"]
    assert all(r["batch_dependence_training"] > 0.01 for r in batch)
