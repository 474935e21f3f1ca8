"""bench.suite.user_code: a suite's own model factory and normalization layer, imported from the
suite's folder, checked before anything runs, and measured like the built-in ones."""

import itertools
import json

import pytest

from bench.cli import main
from bench.suite import expand, load_suites

MODULE = '''
import keras


def small_resnet(input_shape, classes, normalization, width=8, blocks=1):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.Activation("relu")(normalization()(x))
    for _ in range(blocks):
        y = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = keras.layers.Add()([x, keras.layers.Activation("relu")(normalization()(y))])
    return keras.Model(inputs, keras.layers.Dense(classes)(keras.layers.GlobalAveragePooling2D()(x)))


class ScaledLayerNorm(keras.layers.Layer):
    def __init__(self, gain=1.0, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.gain, self.epsilon = gain, epsilon

    def call(self, x):
        mean = keras.ops.mean(x, axis=-1, keepdims=True)
        return self.gain * (x - mean) / keras.ops.sqrt(keras.ops.var(x, axis=-1, keepdims=True) + self.epsilon)


def two_arguments(shape, n):
    return None


def returns_none(input_shape, classes, normalization):
    return None
'''

SUITE = """
name: user_code
dataset: {{name: synthetic, samples: 160, classes: 4, image_size: 6}}
model: {model}
training: {{epochs: 1, batch_size: 16}}
normalizers:
  batch: {{}}
  mine: {mine}
{grid}seeds: [0]
devices: [cpu]
timing: {{min_rounds: 3, max_time: 0.02, warmup_rounds: 1}}
"""
_names = itertools.count()


@pytest.fixture
def module(tmp_path):
    """A fresh module name per test beside the suite (Python caches imported modules by name)."""
    name = f"user_models_{next(_names)}_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    return name


def suite_text(module, model="resnet", mine=None, grid=""):
    models = {"resnet": f'{{factory: "{module}:small_resnet", width: 8}}', "cnn": "{name: cnn, widths: [8]}"}
    return SUITE.format(model=models.get(model, model), mine=mine or f'{{factory: "{module}:ScaledLayerNorm"}}',
                        grid=grid)


def test_factories_resolve_from_the_suite_folder_and_user_axes_reach_their_owner(module, write_suite):
    path = write_suite(suite_text(module, grid="grid:\n  blocks: [1, 2]\n"))
    (suite,) = load_suites([path])
    cases = expand(suite)
    assert len(cases) == 4  # blocks is the model factory's option: every normalizer gets both
    mine = next(c for c in cases if c.normalizer == "mine")
    assert mine.normalizer_kind == "factory" and mine.normalizer_options["factory"] == f"{module}:ScaledLayerNorm"
    assert mine.model == "factory" and mine.model_options["width"] == 8 and mine.model_options["blocks"] in (1, 2)
    assert mine.model_options["factory_path"] == str(path.parent)
    path = write_suite(suite_text(module, model="cnn", grid="grid:\n  gain: [0.5, 1.0]\n"), "norm.yaml")
    cases = expand(load_suites([path])[0])
    by_label = {c.normalizer: c for c in cases}
    assert len(cases) == 3 and by_label["batch"].not_applicable == ("gain",)  # the user normalizer's option
    assert {c.normalizer_options.get("gain") for c in cases if c.normalizer == "mine"} == {0.5, 1.0}


@pytest.mark.parametrize("model, mine, field, message", [
    ('{factory: "absent_module_xyz:build"}', None, "model.factory", "cannot import 'absent_module_xyz'"),
    ('{factory: "MODULE:nothing_here"}', None, "model.factory", "has no 'nothing_here'"),
    ('{factory: "MODULE:two_arguments"}', None, "model.factory", "cannot be called as factory(input_shape, "
                                                                 "classes, normalization"),
    ('{factory: "MODULE:small_resnet", depth: 3}', None, "model.factory", "unexpected keyword argument 'depth'"),
    ('{factory: "not a reference"}', None, "model.factory", "must be 'package.module:name'"),
    ("cnn", '{factory: "MODULE:ScaledLayerNorm", colour: red}', "normalizers.mine.factory",
     "Unrecognized keyword arguments passed to ScaledLayerNorm"),  # **kwargs binds: building it fails
    ("cnn", '{factory: "MODULE:ScaledLayerNorm", factory_path: /x}', "normalizers.mine.factory_path",
     "is set by normbench"),
    ("cnn", '{factory: "MODULE:ScaledLayerNorm", gain: {a: 1}}', "normalizers.mine.factory",
     "must be a string, number, boolean"),
])
def test_bad_user_code_is_one_line_naming_file_and_field(module, write_suite, capsys, model, mine, field, message):
    text = suite_text(module, model=model.replace("MODULE", module),
                      mine=mine.replace("MODULE", module) if mine else None)
    path = write_suite(text)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith(f"normbench: error: {path}: {field}: ") and message in err, err


@pytest.mark.tensorflow
def test_check_builds_the_model_and_a_factory_that_breaks_is_one_line(module, write_suite, capsys):
    good = write_suite(suite_text(module))
    assert main(["check", str(good)]) == 0
    out, err = capsys.readouterr()
    assert "ok: suite 'user_code', 2 cases" in out and err == ""  # the framework's start-up notices stay hidden
    bad = write_suite(suite_text(module, model=f'{{factory: "{module}:returns_none"}}'), "bad.yaml")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "model.factory: building for user_code/batch/default/seed=0/cpu raised TypeError" in err
    assert "returned NoneType, not a Keras model" in err


@pytest.mark.tensorflow
def test_a_suite_of_user_code_runs_end_to_end(module, write_suite, tmp_path):
    suite = write_suite(suite_text(module, grid="grid:\n  blocks: [1, 2]\n"))
    assert main(["run", str(suite), "--results", str(tmp_path / "results"), "--no-report"]) == 0
    records = [json.loads(line) for line in (tmp_path / "results" / "latest" / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    assert {r["normalizer_kind"] for r in records} == {"batch", "factory"} and {r["model"] for r in records} == {"factory"}
    assert all(r["steps"] == 120 // 16 and r["train_samples_per_sec"] > 0 for r in records)
