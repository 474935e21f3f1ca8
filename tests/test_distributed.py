"""Replicas and synchronized BatchNorm (bench/measure/distributed.py): the kernel-level checks of
issue 27 on fixed inputs, the suite rules, and a replicated case end to end."""

import json

import pytest

from bench.core.errors import SuiteError
from bench.suite import expand, load_suite
from tests.test_backends import run_on

# Four logical CPU devices, a BatchNorm with momentum 0 (its moving statistics become the last
# batch's) fed one fixed global batch of 16, split over the replicas: what do the statistics hold?
MOVING_STATISTICS = """
import json, sys
import numpy as np, tensorflow as tf, keras
from bench.measure.distributed import configure_logical_devices, replica_devices

configure_logical_devices(4)
replicas = int(sys.argv[2])
strategy = tf.distribute.MirroredStrategy(replica_devices("cpu", replicas))
x = np.random.default_rng(0).normal(2.0, 3.0, (16, 5)).astype("float32")
x[:4] += 10.0  # the first replica's slice sits apart: per-device statistics differ from global ones
found = {}
for synchronized in (False, True):
    with strategy.scope():
        layer = keras.layers.BatchNormalization(momentum=0.0, synchronized=synchronized)
        layer.build((None, 5))

    @tf.function
    def step(batch):
        def replica(batch):
            i = tf.distribute.get_replica_context().replica_id_in_sync_group
            per = 16 // replicas
            return layer(batch[i * per:(i + 1) * per], training=True)
        return strategy.run(replica, args=(batch,))

    outputs = strategy.experimental_local_results(step(tf.constant(x)))
    found[str(synchronized)] = {"mean": np.asarray(layer.moving_mean).tolist(),
                                "variance": np.asarray(layer.moving_variance).tolist(),
                                "output": np.concatenate([np.asarray(o) for o in outputs]).tolist()}
print(json.dumps({"global_mean": x.mean(0).tolist(), "global_variance": x.var(0).tolist(),
                  "first_mean": x[:16 // replicas].mean(0).tolist(), "first_variance": x[:16 // replicas].var(0).tolist(),
                  **found}))
"""


def moving_statistics(replicas: int) -> dict:
    return json.loads(run_on("tensorflow", MOVING_STATISTICS.replace("int(sys.argv[2])", str(replicas))).splitlines()[-1])


@pytest.mark.tensorflow
def test_synchronized_bn_keeps_the_global_batch_statistics_and_per_device_bn_does_not():
    import numpy as np

    found = moving_statistics(4)
    sync, local = found["True"], found["False"]
    np.testing.assert_allclose(sync["mean"], found["global_mean"], rtol=1e-5)
    np.testing.assert_allclose(sync["variance"], found["global_variance"], rtol=1e-4)
    # per device: each replica keeps its own slice's statistics, and inference reads the first
    # replica's (as PyTorch's DistributedDataParallel broadcasts rank 0's buffers)
    np.testing.assert_allclose(local["mean"], found["first_mean"], rtol=1e-5)
    np.testing.assert_allclose(local["variance"], found["first_variance"], rtol=1e-4)
    assert all(abs(m - g) > 5 for m, g in zip(local["mean"], found["global_mean"]))
    # the outputs tell them apart too: synchronized BN normalizes the whole batch to mean 0
    assert abs(np.mean(sync["output"])) < 1e-4 and np.std(sync["output"], axis=0) == pytest.approx(1, rel=1e-2)


@pytest.mark.tensorflow
def test_with_one_replica_synchronized_and_per_device_bn_are_the_same():
    import numpy as np

    found = moving_statistics(1)
    for key in ("mean", "variance", "output"):
        np.testing.assert_allclose(found["True"][key], found["False"][key], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(found["False"]["variance"], found["global_variance"], rtol=1e-4)


SUITE = """
name: dp
dataset: digits
model: {name: mlp, widths: [16]}
training: {epochs: 1, batch_size: 8}
normalizers:
  batch: {}
  batch_sync: {kind: batch, synchronized: true}
  layer: {}
grid:
  replicas: [1, 2]
devices: [cpu]
timing: {min_rounds: 2, max_time: 0.02, warmup_rounds: 1}
"""


def test_replicas_is_a_grid_axis_and_the_global_batch_must_split(write_suite):
    cases = {(c.normalizer, c.settings["replicas"]): c for c in expand(load_suite(write_suite(SUITE)))}
    assert sorted(cases) == [(n, r) for n in ("batch", "batch_sync", "layer") for r in (1, 2)]
    assert cases[("batch_sync", 2)].normalizer_options["synchronized"] is True
    assert "synchronized" not in cases[("layer", 2)].normalizer_options
    with pytest.raises(SuiteError, match=r"grid.batch_size: 6 does not split evenly over 4 replicas"):
        load_suite(write_suite(SUITE.replace("replicas: [1, 2]", "replicas: [1, 4]\n  batch_size: [8, 6]")
                               .replace("epochs: 1, batch_size: 8", "epochs: 1")))
    with pytest.raises(SuiteError, match=r"training.batch_size: 8 does not split evenly over 3 replicas"):
        load_suite(write_suite(SUITE.replace("replicas: [1, 2]", "replicas: [3]")))
    with pytest.raises(SuiteError, match=r"normalizers.layer: unknown key|normalizers.layer.synchronized"):
        load_suite(write_suite(SUITE.replace("layer: {}", "layer: {synchronized: true}")))


def test_a_case_without_the_new_settings_keeps_its_config_hash(write_suite):
    """replicas 1 and synchronized false are what every earlier run did: the hash leaves them out."""
    plain = expand(load_suite(write_suite("name: s\nnormalizers: {batch: {}}\ndevices: [cpu]\n")))[0]
    assert plain.config_hash == "ee3048f86b11ea6d"  # as on b61d34f
    explicit = expand(load_suite(write_suite(
        "name: s\nnormalizers: {batch: {synchronized: false}}\ntraining: {replicas: 1}\ndevices: [cpu]\n")))[0]
    assert explicit.config_hash == plain.config_hash


def test_replicas_on_other_backends_are_skipped_with_the_reason(write_suite):
    from bench.measure import backends

    case = next(c for c in expand(load_suite(write_suite(SUITE))) if c.settings["replicas"] == 2)
    assert "MirroredStrategy" in backends.unsupported(case, "jax")
    assert backends.unsupported(case, "tensorflow") is None


@pytest.mark.tensorflow
def test_replicated_cases_train_and_record_their_per_device_batch(tmp_path, write_suite):
    """A run with replicas (fresh serial workers make their logical CPU devices at start): every
    case trains; one replica gives the same model with and without synchronization."""
    from bench.cli import main

    results = tmp_path / "results"
    assert main(["run", str(write_suite(SUITE)), "--results", str(results), "--no-report", "--workers", "1"]) == 0
    records = {(r["normalizer"], r["replicas"]): r
               for r in map(json.loads, (results / "latest" / "cases.jsonl").read_text().splitlines())}
    assert all(r["status"] == "ok" for r in records.values()), [r["error"] for r in records.values()]
    assert records[("batch", 2)]["per_device_batch"] == 4 and records[("batch", 1)]["per_device_batch"] == 8
    assert records[("batch_sync", 2)]["synchronized"] is True and records[("layer", 2)]["synchronized"] is None
    assert all(r["test_accuracy"] > 0.3 and r["train_samples_per_sec"] > 0 for r in records.values())
    # one replica: the same model either way (synchronized BN computes the variance as E[x^2] - E[x]^2,
    # so the losses agree to float rounding, not bit for bit)
    one, one_sync = records[("batch", 1)], records[("batch_sync", 1)]
    assert one["test_accuracy"] == one_sync["test_accuracy"]
    assert one["final_loss"] == pytest.approx(one_sync["final_loss"], rel=1e-5)


def test_synchronized_bn_elsewhere_than_tensorflow_is_skipped_with_the_reason(write_suite):
    from bench.measure import backends

    case = next(c for c in expand(load_suite(write_suite(SUITE)))
                if c.normalizer == "batch_sync" and c.settings["replicas"] == 1)
    assert "TensorFlow-only" in backends.unsupported(case, "jax")
    assert backends.unsupported(case, "tensorflow") is None


def _needs_ray(test):
    from tests.ray_helpers import needs_ray

    for mark in needs_ray:
        test = mark(test)
    return test


@_needs_ray
def test_ray_slots_get_the_replica_devices_the_run_asks_for(tmp_path, write_suite):
    """On Ray each slot's worker makes the logical CPU devices the run asks for (the embedded cluster
    inherits the driver's NORMBENCH_REPLICA_DEVICES; actors also get it through their runtime_env,
    for clusters started elsewhere), so a replicated case trains there instead of finding one device."""
    from tests.ray_helpers import normbench, records

    suite = write_suite(SUITE.replace("replicas: [1, 2]", "replicas: [2]").replace("  layer: {}\n", ""))
    out = normbench("run", str(suite), "--results", str(tmp_path / "r"), "--no-report", "--workers", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    found = records(tmp_path / "r")
    assert len(found) == 2 and all(r["status"] == "ok" and r["executor"] == "ray" for r in found), \
        [r["error"] for r in found]
    assert {r["per_device_batch"] for r in found} == {4}
