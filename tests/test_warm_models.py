"""Traced steps kept between cases of one configuration: a case trained on a kept trainer gives the
results of a fresh one, bit for bit, and only what is safe to reuse is reused."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from bench.measure import warm_models
from bench.suite import expand
from bench.suite.loader import suite_from_document
from tests.conftest import ROOT

pytestmark = pytest.mark.tensorflow

FIELDS = ("test_accuracy", "test_accuracy_training_mode", "test_accuracy_precise_bn", "final_loss", "nan_rate",
          "steps", "bn_statistics")


def cases(normalizers: dict, seeds=(0, 1), model=None, **training):
    suite = suite_from_document({
        "name": "warm", "dataset": "digits", "model": model or {"name": "mlp", "widths": [16, 16]},
        "training": {"epochs": 2, "optimizer": "sgd", "learning_rate": 0.1, "sgd_momentum": 0.9, "batch_size": 32,
                     **training},
        "normalizers": normalizers, "seeds": list(seeds), "devices": ["cpu"]}, "warm.yaml")
    return list(expand(suite))


def run(case):
    from bench.execute.in_worker import CaseRun

    record, _ = CaseRun(case, "t", {}, {}).run()
    assert record["status"] in ("ok", "nan"), record["error"]
    return record


@pytest.fixture(autouse=True)
def nothing_kept():
    warm_models.forget()
    yield
    warm_models.forget()


@pytest.mark.parametrize("normalizers, model, training", [
    ({"batch": {"momentum": 0.9}, "batch_renorm": {"kind": "batch", "renorm": True},
      "batch_frozen": {"kind": "batch", "freeze_stats_after": 30}}, None, {"precise_bn_samples": 256}),
    ({"group": {"groups": 4}, "layer": {}}, {"name": "cnn", "widths": [8, 16]}, {"monitor_statistics": True}),
    ({"batch": {}}, None, {"precision": "mixed_float16"}),
])
def test_a_case_on_kept_steps_gives_a_fresh_cases_results_bit_for_bit(normalizers, model, training):
    first_pass = {case.case_id: run(case) for case in cases(normalizers, model=model, **training)}
    reused = [record for record in first_pass.values() if record["seed"] == 1]
    assert reused and all(record["reused_steps"] for record in reused)
    assert not any(record["reused_steps"] for record in first_pass.values() if record["seed"] == 0)
    warm_models.forget()
    for case in cases(normalizers, seeds=(1,), model=model, **training):
        fresh = run(case)
        assert fresh["reused_steps"] is False
        assert {f: fresh[f] for f in FIELDS} == {f: first_pass[case.case_id][f] for f in FIELDS}


def test_seeds_differ_on_kept_steps():
    """The copy takes each case's own start: seed 1 on seed 0's trainer does not repeat seed 0."""
    zero, one = (run(case) for case in cases({"batch": {}}))
    assert one["reused_steps"] and zero["final_loss"] != one["final_loss"]


def test_another_configuration_or_the_users_code_traces_afresh():
    (slow,), (fast,) = cases({"batch": {"momentum": 0.99}}, seeds=(0,)), cases({"batch": {"momentum": 0.9}}, seeds=(1,))
    run(slow)
    assert run(fast)["reused_steps"] is False
    own = cases({"factory": {"factory": "keras.layers:LayerNormalization"}}, seeds=(0,))[0]
    assert warm_models.configuration(own) is None
    assert warm_models.configuration(slow) != warm_models.configuration(fast)


def test_a_worker_keeps_a_bounded_number_of_trainers():
    class Kept:
        reuses_steps = True

    for momentum in range(warm_models.KEPT + 3):
        (case,) = cases({"batch": {"momentum": 0.5 + momentum / 100}}, seeds=(0,))
        warm_models.keep(case, Kept())
    assert sum(len(trainers) for trainers in warm_models._kept.values()) == warm_models.KEPT


def test_a_case_whose_timing_failed_leaves_nothing_to_reuse(monkeypatch):
    from bench.execute.in_worker import CaseRun
    from bench.measure.case import StepTiming

    def broken(self):
        raise RuntimeError("timing broke")

    monkeypatch.setattr(StepTiming, "members", broken)
    record, _ = CaseRun(cases({"batch": {}}, seeds=(0,))[0], "t", {}, {}).run()
    assert record["status"] == "failed" and "timing broke" in record["error"]
    assert not warm_models._kept


JAX_CHECK = """
import json
from bench.execute.in_worker import CaseRun, start_worker
from bench.measure import warm_models
from tests.test_warm_models import FIELDS, cases

start_worker(1, "jax")
first = [CaseRun(case, "t", {}, {}).run()[0] for case in cases({"batch": {}, "layer": {}})]
warm_models.forget()
fresh = [CaseRun(case, "t", {}, {}).run()[0] for case in cases({"batch": {}, "layer": {}}, seeds=(1,))]
print(json.dumps({"first": first, "fresh": fresh}))
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_jax_cases_on_kept_compiled_steps_give_fresh_results_bit_for_bit():
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", JAX_CHECK], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    first = {record["case_id"]: record for record in results["first"]}
    assert all(record["status"] == "ok" and record["reused_steps"] == (record["seed"] == 1) for record in first.values())
    for fresh in results["fresh"]:
        assert fresh["reused_steps"] is False
        assert {f: fresh[f] for f in FIELDS} == {f: first[fresh["case_id"]][f] for f in FIELDS}
