"""bench.measure.backends: the registry, and the JAX (and, where installed, PyTorch) backends
measured end to end in their own worker processes beside TensorFlow's."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from bench.cli import main
from bench.measure import backends
from bench.suite import expand
from bench.suite.loader import suite_from_document
from tests.conftest import ROOT

HAS_TORCH = importlib.util.find_spec("torch") is not None

BACKENDS_SUITE = """
name: backends_tiny
dataset: {name: synthetic, samples: 160, classes: 4, image_size: 6}
model: {name: cnn, widths: [8, 8]}
training: {epochs: 2, learning_rate: 0.05}
normalizers:
  batch: {momentum: 0.9}
  ref: {kind: batch, implementation: reference}
grid:
  backend: [tensorflow, jax, torch]
seeds: [0]
devices: [cpu, gpu]
timing: {min_rounds: 3, max_time: 0.02, warmup_rounds: 1}
"""

LAYER_SUITE = """
name: layer_jax_tiny
workload: layer
layer: {shape: cifar_64, batch_size: 2}
normalizers: {rms: {}}
grid:
  backend: [jax]
  pass: [forward, forward_backward]
  jit_compile: [false, true]
devices: [cpu]
timing: {min_rounds: 3, max_time: 0.02, warmup_rounds: 1}
"""


def _case(document: str):
    (case, *_) = expand(suite_from_document(yaml.safe_load(document), "<test>"))
    return case


def test_missing_backend_is_named_without_importing_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    assert "not installed" in backends.missing_reason("torch") and "pip install torch" in backends.missing_reason("torch")
    assert backends.missing_reason("tensorflow") is None
    monkeypatch.setattr(backends.metadata, "version", lambda name: "2.15.0")
    assert "Keras 2" in backends.missing_reason("jax")


def test_tensorflow_only_features_are_named_for_other_backends():
    base = "name: s\nnormalizers: {batch: {}}\ndevices: [cpu]\n"
    plain = _case(base)
    assert backends.unsupported(plain, "tensorflow") is None and backends.unsupported(plain, "jax") is None
    reference = _case("name: s\nnormalizers: {batch: {implementation: reference}}\ndevices: [cpu]\n")
    assert "TensorFlow code" in backends.unsupported(reference, "jax")
    assert backends.unsupported(reference, "tensorflow") is None
    tuned = _case(base + "training: {fine_tune_epochs: 1}\n")
    assert "fine-tuning" in backends.unsupported(tuned, "torch")
    precise = _case(base + "training: {precise_bn_samples: 64}\n")
    assert "PreciseBN" in backends.unsupported(precise, "jax")


def test_config_hash_of_tensorflow_cases_is_unchanged_by_the_backend_axis():
    """Runs from before the axis existed still pair with today's in ``normbench compare``: the hash
    is the one normbench computed for this case before the axis (and the field renames) existed."""
    case = _case("name: s\nnormalizers: {batch: {}}\ndevices: [cpu]\n")
    before = "ee3048f86b11ea6d"  # b61d34f (record schema 2)
    assert case.config_hash == before
    jax_case = _case("name: s\nnormalizers: {batch: {}}\ndevices: [cpu]\ntraining: {backend: jax}\n")
    assert jax_case.config_hash != before


@pytest.mark.tensorflow
def test_one_suite_on_every_backend_end_to_end(tmp_path, write_suite, capfd):
    """TensorFlow and JAX cases (PyTorch where installed) in one run, each on workers of its own
    backend; what a backend cannot do is a skipped record; framework output stays in worker.log."""
    results = tmp_path / "results"
    model_suite = write_suite(BACKENDS_SUITE, "backends.yaml")
    layer_suite = write_suite(LAYER_SUITE, "layers.yaml")
    assert main(["run", str(model_suite), str(layer_suite), "--results", str(results), "--no-report"]) == 0
    out, err = capfd.readouterr()
    records = [json.loads(line) for line in (results / "latest" / "cases.jsonl").read_text().splitlines()]
    by_id = {r["case_id"]: r for r in records}
    compilers = {"tensorflow": "tf.function", "jax": "jax.jit (a step per call)", "torch": "torch eager"}
    for backend in ("tensorflow", "jax", "torch"):
        for label in ("batch",):
            record = by_id[f"backends_tiny/{label}/backend={backend}/seed=0/cpu"]
            assert record["backend"] == backend
            if backend == "torch" and not HAS_TORCH:
                assert record["status"] == "skipped" and "not installed" in record["error"]
                continue
            assert record["status"] == "ok", record["error"]
            assert record["step_compiler"] == compilers[backend] and record["backend_version"]
            assert 0.0 <= record["test_accuracy"] <= 1.0 and record["steps"] == 2 * (120 // 32)
            assert record["train_samples_per_sec"] > 0 and record["infer_samples_per_sec"] > 0
            assert record["batch_dependence_inference"] == pytest.approx(0.0, abs=1e-6)
        gpu = by_id[f"backends_tiny/batch/backend={backend}/seed=0/gpu"]
        assert gpu["status"] == "skipped" and ("no GPU" in gpu["error"] or "not installed" in gpu["error"])
    batch_on_jax = by_id["backends_tiny/batch/backend=jax/seed=0/cpu"]
    batch_on_tf = by_id["backends_tiny/batch/backend=tensorflow/seed=0/cpu"]
    # timed across backends: one group, the workers taking turns, so both have the same rounds to pair
    assert batch_on_jax["timing_group"] == batch_on_tf["timing_group"] == "backends_tiny//seed=0/cpu/backends"
    assert batch_on_jax["train_step_seconds"]["rounds"] == batch_on_tf["train_step_seconds"]["rounds"] >= 3
    assert batch_on_jax["batch_dependence_training"] > 0.01  # batch statistics: BatchNorm's signature
    assert batch_on_jax["xla_max_rel_diff"] is None  # TensorFlow's XLA switch: not a JAX check
    reference = by_id["backends_tiny/ref/backend=jax/seed=0/cpu"]
    assert reference["status"] == "skipped" and "TensorFlow code" in reference["error"]
    assert by_id["backends_tiny/ref/backend=tensorflow/seed=0/cpu"]["status"] == "ok"

    layers = [r for r in records if r["suite"] == "layer_jax_tiny"]
    assert len(layers) == 4 and all(r["status"] == "ok" for r in layers), [r["error"] for r in layers]
    assert {r["step_compiler"] for r in layers} == {"JAX eager (op by op)", "jax.jit"}
    assert all(r["achieved_gb_per_s"] > 0 and r["framework_gb_per_s"] > 0 for r in layers)

    info = json.loads((results / "latest" / "run.json").read_text())
    assert info["frameworks"]["jax"]["keras_backend"] == "jax" and info["framework"]["tensorflow"]
    (execution,) = info["executions"]  # serially, one worker per backend side by side
    assert set(execution["backends"]) >= {"tensorflow", "jax"}
    from bench.execute.runner import interleave
    from bench.suite import load_suites

    from collections import deque

    from bench.execute.timing_groups import Affinity

    ran = [r["case_id"] for r in records if r["status"] == "ok" and r["suite"] == "backends_tiny"]
    # the shuffled order, across backends; a setting's candidates on one backend run as one timing
    # group, taken off the queue when its first case comes up, a configuration the worker has just
    # traced first
    installed = {"tensorflow", "jax"} | ({"torch"} if HAS_TORCH else set())
    queue = deque(c for c in interleave(expand(load_suites([model_suite])[0]), info["order_seed"])
                  if c.device == "cpu" and c.settings.get("backend", "tensorflow") in installed)
    planned, affinity = [], Affinity()
    while queue:
        planned += [c.case_id for c in affinity.take(queue)]
    assert ran == [case_id for case_id in planned if case_id in ran]
    # Framework start-up noise (oneDNN, CUDA probing) goes to the run's worker.log, not the terminal.
    assert (results / "latest" / "worker.log").exists()
    foreign = [line for line in err.splitlines() if line and not line.startswith(("normbench:", "["))]
    assert foreign == [] and "Could not find cuda drivers" not in err


@pytest.mark.tensorflow
def test_a_backend_whose_framework_cannot_load_is_skipped_with_the_reason(tmp_path, write_suite):
    """TensorFlow made unimportable (as on a GPU machine that only has JAX and PyTorch): its cases
    are skipped with the import error; the run completes."""
    blocked = tmp_path / "blocked" / "tensorflow"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('tensorflow blocked by the test')\n")
    suite = write_suite(BACKENDS_SUITE.replace("[tensorflow, jax, torch]", "[tensorflow]")
                        .replace("devices: [cpu, gpu]", "devices: [cpu]"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "blocked"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "r"),
                           "--no-report"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "r" / "latest" / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["status"] == "skipped" for r in records)
    assert "tensorflow blocked by the test" in records[0]["error"]
    assert "Traceback" not in done.stderr


# A worker-like process on one Keras backend (argv[1]) with a small batch of data, for the scripts below.
ON_BACKEND = """
import os, sys
os.environ["KERAS_BACKEND"] = sys.argv[1]
import keras, numpy as np
from bench.measure import backends, compat
from bench.measure.models import build_model
from bench.measure.optimizer import make_optimizer

backend = backends.active()
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 6, 6, 1)).astype("float32")
y = rng.integers(0, 4, 64).astype("int32")
"""

TRAINER_AGREES_WITH_KERAS_FIT = ON_BACKEND + """
training = {"optimizer": "sgd", "sgd_momentum": 0.9, "precision": "float32"}

def model():
    keras.utils.set_random_seed(3)
    return build_model("cnn", {"widths": [8], "placement": "before"}, (6, 6, 1), 4, "batch", {"momentum": 0.9})

ours, theirs = model(), model()
theirs.set_weights(ours.get_weights())
trainer = backend.Trainer(ours, make_optimizer(training, 0.1))
losses = trainer.fit(x, y, 16, 2, seed=5)
theirs.compile(optimizer=make_optimizer(training, 0.1),
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
order = np.random.default_rng(5)
expected = []
for _ in range(2):
    batches = order.permutation(64)[:64].reshape(4, 16)
    expected += [float(theirs.train_on_batch(x[b], y[b])) for b in batches]
weights = max(float(np.max(np.abs(a - b))) for a, b in zip(ours.get_weights(), theirs.get_weights()))
labels = trainer.predict(x, 16, False)
print(max(abs(a - b) for a, b in zip(losses, expected)), weights,
      float(np.mean(labels == np.argmax(theirs.predict(x, verbose=0), -1))))
"""


def run_on(backend: str, script: str) -> str:
    """``script`` in a fresh process whose Keras runs on ``backend``; its stdout (it must succeed)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), backend], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


OTHER_BACKENDS = ["jax", pytest.param("torch", marks=pytest.mark.skipif(
    not HAS_TORCH, reason="PyTorch is not installed (tox -e py-torch installs its CPU wheel)"))]


@pytest.mark.tensorflow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_backend_trainer_matches_keras_own_training_loop(backend):
    """Our training loop (JAX: a compiled step per batch; PyTorch: eager steps) takes the same steps as Keras's
    own ``train_on_batch`` from the same weights: every step's loss, the final weights (BatchNorm's
    moving averages included) and the predictions agree."""
    loss_gap, weight_gap, same_predictions = map(float, run_on(backend, TRAINER_AGREES_WITH_KERAS_FIT).split()[-3:])
    assert loss_gap < 1e-4 and weight_gap < 1e-4 and same_predictions == 1.0


MIXED_PRECISION = ON_BACKEND + """
for policy in ("mixed_float16", "mixed_bfloat16"):
    compat.set_dtype_policy(policy)
    keras.utils.set_random_seed(0)
    model = build_model("cnn", {"widths": [8], "placement": "before"}, (6, 6, 1), 4, "group", {"groups": 2})
    optimizer = make_optimizer({"optimizer": "sgd", "sgd_momentum": 0.9, "precision": policy}, 0.05)
    trainer = backend.Trainer(model, optimizer)
    losses = trainer.fit(x, y, 16, 2, seed=1)
    compute = model.layers[1].compute_dtype
    scaled = type(optimizer).__name__ == "LossScaleOptimizer"
    print(policy, compute, scaled, bool(np.isfinite(losses).all()), losses[-1] < losses[0], trainer.weights_finite())
    compat.set_dtype_policy("float32")
"""


@pytest.mark.tensorflow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_mixed_precision_trains_on_other_backends(backend):
    """float16 (with dynamic loss scaling, read from the traced optimizer state on JAX) and bfloat16:
    16-bit compute, finite losses that fall, finite weights."""
    lines = [line.split() for line in run_on(backend, MIXED_PRECISION).splitlines()[-2:]]
    assert lines == [["mixed_float16", "float16", "True", "True", "True", "True"],
                     ["mixed_bfloat16", "bfloat16", "False", "True", "True", "True"]]
