from pathlib import Path

import pytest

from bench.core.errors import SuiteError
from bench.suite import load_suite, load_suites
from tests.conftest import MINIMAL, ROOT

SHIPPED = sorted([*(ROOT / "suites").glob("*.yaml"), *(ROOT / "suites" / "extended").glob("*.yaml")])


def test_minimal_suite_gets_defaults(write_suite):
    suite = load_suite(write_suite(MINIMAL))
    assert suite.name == "demo"
    assert suite.dataset.name == "digits" and suite.model.name == "cnn"
    assert suite.settings["optimizer"] == "sgd"
    assert [n.label for n in suite.normalizers] == ["batch", "group", "layer"]
    assert suite.normalizers[1].options["groups"] == 4
    assert suite.grid == {"batch_size": [8, 32], "momentum": [0.9, 0.99]}
    assert len(suite.sha256) == 64


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_suites_are_valid(path):
    suite = load_suite(path)
    assert suite.description, "a shipped suite says what it reveals"
    assert suite.quick.seeds == suite.seeds[:1]  # --quick: one seed and short timing, whatever the suite says
    assert suite.quick.timing["min_rounds"] == 2 and suite.quick.timing["max_time"] == 0.02


def test_shipped_suites_include_the_three_classics():
    assert {p.stem for p in SHIPPED} >= {"batch_size", "epsilon", "momentum"}


BAD = [
    ("grid:\n  epsilon: [1.0e-3, 0.1, -1]", "grid.epsilon[2]", "must be > 0, got -1"),
    ("grid:\n  batch_size: [0]", "grid.batch_size[0]", "must be >= 1, got 0"),
    ("grid:\n  momentum: [0.9, 1.0]", "grid.momentum[1]", "must be in [0, 1), got 1.0"),
    ("grid:\n  colour: [1]", "grid.colour", "not a training setting"),
    ("grid:\n  batch_size: 8", "grid.batch_size", "non-empty list"),
    ("grid:\n  batch_size: [8, 8]", "grid.batch_size", "repeats a value"),
    ("normalizers:\n  group: {groups: 5}", "normalizers.group.groups", "5 groups do not divide"),
    ("normalizers:\n  group: {}\ngrid:\n  groups: [4, 3]", "grid.groups[1]", "3 groups do not divide"),
    ("normalizers:\n  weird: {}", "normalizers.weird.kind", "unknown normalizer 'weird'"),
    ("normalizers:\n  layer: {momentum: 0.9}", "normalizers.layer.momentum", "unknown key"),
    ("normalizers: {}", "normalizers", "non-empty mapping"),
    ("dataset: mnist", "dataset.name", "unknown dataset 'mnist'"),
    ("model: {name: cnn, placement: middle}", "model.placement", "must be one of 'before', 'after'"),
    ("training: {epochs: 0}", "training.epochs", "must be >= 1, got 0"),
    ("training: {optimizer: rmsprop}", "training.optimizer", "must be one of"),
    ("training: {batch_size: 8}\ngrid:\n  batch_size: [8]", "training.batch_size", "set it in one place"),
    ("normalizers:\n  batch: {momentum: 0.9}\ngrid:\n  momentum: [0.9]", "normalizers.batch.momentum",
     "set it in one place"),
    ("seeds: [1, 1]", "seeds", "must not repeat"),
    ("grid:\n  batch_size: [8, 2048]", "grid.batch_size[1]", "2048 is more than the 1347 training examples"),
    ("dataset: {name: synthetic, samples: 40, classes: 4}\ntraining: {batch_size: 64}", "training.batch_size",
     "64 is more than the 32 training examples of dataset 'synthetic'"),
    ("devices: [tpu]", "devices[0]", "must be one of 'cpu', 'gpu'"),
    ("timing: {max_time: 0}", "timing.max_time", "must be > 0"),
    ("colour: red", "colour", "unknown key"),
    ("name: 'has space'", "name", "letters, digits"),
    ("quick: {devices: [cpu]}", "quick.devices", "cannot be overridden"),
    ("quick: {grid: {batch_size: [-2]}}", "quick: grid.batch_size[0]", "must be >= 1"),
]


@pytest.mark.parametrize("override, field, message", BAD, ids=[b[1] for b in BAD])
def test_bad_values_name_file_field_and_value(write_suite, override, field, message):
    base = {"name": "name: demo", "normalizers": "normalizers:\n  batch: {}\n  group: {groups: 4}"}
    for key in base:
        if override.startswith(f"{key}:") or f"\n{key}:" in override:
            base[key] = ""
    path = write_suite("\n".join([*base.values(), override]) + "\n")
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert info.value.field == field
    assert message in info.value.message
    assert str(info.value).startswith(f"{path}: {field}: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("name: [unclosed", "not valid YAML"),
    ("!!python/object/apply:os.system ['echo hi']", "not valid YAML"),
    ("- a list\n- not a mapping", "must be a mapping of suite fields"),
    ("", "must be a mapping of suite fields"),
])
def test_unparseable_documents(write_suite, text, message):
    with pytest.raises(SuiteError, match=message):
        load_suite(write_suite(text))


def test_missing_file():
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(Path("/nonexistent/suite.yaml"))


def test_duplicate_suite_names_across_files(write_suite):
    first = write_suite(MINIMAL, "a.yaml")
    second = write_suite(MINIMAL, "b.yaml")
    with pytest.raises(SuiteError, match="also the name of"):
        load_suites([first, second])


def test_quick_overrides_merge_per_key(write_suite):
    suite = load_suite(write_suite(MINIMAL + "quick:\n  grid: {batch_size: [8]}\n  training: {epochs: 1}\n"))
    assert suite.quick.grid == {"batch_size": [8], "momentum": [0.9, 0.99]}
    assert suite.quick.seeds == (0,)
    assert suite.quick.settings["epochs"] == 1
    assert suite.quick.timing["max_time"] < suite.timing["max_time"]


def test_the_readme_example_suite_is_valid(write_suite):
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    suite = load_suite(write_suite(example))
    assert suite.name == "small_batch_mlp"
    assert [n.label for n in suite.normalizers] == ["batch", "group", "layer", "bn_slow"]


@pytest.mark.parametrize("text, field", [
    ("normalizers:\n  batch: {kind: []}", "normalizers.batch.kind"),
    ("normalizers:\n  batch: {}\ndataset: {name: [1]}", "dataset.name"),
])
def test_unhashable_names_are_field_errors(write_suite, text, field):
    with pytest.raises(SuiteError) as info:
        load_suite(write_suite("name: x\n" + text + "\n"))
    assert info.value.field == field


@pytest.mark.parametrize("text, field, message", [
    ("model: {name: mlp}\ngrid: {model: [cnn, mlp]}", "model.name", "is also grid axis grid.model"),
    ("grid: {model: [cnn, rnn]}", "grid.model[1]", "must be one of 'cnn', 'mlp', 'resnet', 'transformer', got 'rnn'"),
    ("dataset: {name: digits, input_scale: 1.0}\ngrid: {input_scale: [1.0, 2.0]}", "dataset.input_scale",
     "set it in one place"),
    ("grid: {input_scale: [0, 1.0]}", "grid.input_scale[0]", "must be > 0"),
    ("grid: {samples: [100]}", "grid.samples", "not a training setting"),
    ("training: {precision: float64}", "training.precision", "must be one of"),
    ("training: {fine_tune_bn: melted}", "training.fine_tune_bn", "must be one of"),
    ("model: {widths: [6]}\ngrid: {model: [cnn, mlp]}\nnormalizers: {group: {groups: 4}}",
     "normalizers.group.groups", "4 groups do not divide the model's width 6"),
])
def test_new_axes_are_validated(write_suite, text, field, message):
    document = "name: s\nnormalizers: {batch: {}}\n" + text if "normalizers" not in text else "name: s\n" + text
    with pytest.raises(SuiteError) as error:
        load_suite(write_suite(document))
    assert f": {field}: " in str(error.value) and message in str(error.value)
