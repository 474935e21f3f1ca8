"""bench.execute.across_backends: a timing group spread over one worker per Keras backend, the
workers taking turns round by round (fake workers: the protocol, not the frameworks; the real
workers are exercised end to end in tests/test_backends.py)."""

from collections import deque

import yaml

from bench.execute.across_backends import StepFailed, run_across
from bench.execute.timing_groups import MAX_GROUP, group_key, spans_backends, take_group
from bench.suite import expand
from bench.suite.loader import suite_from_document

SUITE = """
name: across
normalizers: {batch: {}, layer: {}}
grid: {backend: [tensorflow, jax]}
seeds: [0, 1]
devices: [cpu]
timing: {min_rounds: 4, max_time: 0.01}
"""


def _cases(document: str = SUITE):
    return expand(suite_from_document(yaml.safe_load(document), "<test>"))


def test_a_suite_with_a_backend_axis_groups_a_seed_across_backends():
    cases = _cases()
    assert all(spans_backends(case) for case in cases)
    queue = deque(cases)
    group = take_group(queue.popleft(), queue)
    assert {case.settings["backend"] for case in group} == {"tensorflow", "jax"}
    assert {case.seed for case in group} == {0} and len(group) == 4
    assert group_key(group[0]).endswith("/seed=0/cpu/backends")
    plain = _cases(SUITE.replace("grid: {backend: [tensorflow, jax]}", "training: {backend: jax}"))
    assert not any(spans_backends(case) for case in plain)
    assert group_key(plain[0]).endswith("/jax")


def test_the_group_cap_holds_per_backend():
    many = SUITE.replace("normalizers: {batch: {}, layer: {}}",
                         "normalizers: {" + ", ".join(f"n{i}: {{kind: layer}}" for i in range(MAX_GROUP + 2)) + "}")
    queue = deque(case for case in _cases(many) if case.seed == 0)
    group = take_group(queue.popleft(), queue)
    counts = {name: sum(case.settings["backend"] == name for case in group) for name in ("tensorflow", "jax")}
    assert counts == {"tensorflow": MAX_GROUP, "jax": MAX_GROUP}


class FakeWorker:
    """Holds its share; logs each step into a log shared by all fakes."""

    def __init__(self, name, log, fail_round=None, round_seconds=0.004):
        self.name, self.log, self.fail_round, self.round_seconds = name, log, fail_round, round_seconds
        self.cases = []

    def hold(self, cases):
        self.cases = cases

    def held(self, timeout):
        return [], len(self.cases)

    def step(self, name, *args, timeout=900.0):
        self.log.append((self.name, name, *args))
        if name == "start":
            return 2
        if name == "calibrate":
            return len(self.cases), self.round_seconds
        if name == "run_round" and args[0] == self.fail_round:
            raise StepFailed("boom")
        if name in ("finish", "alone"):
            return [({"case_id": case.case_id, "how": name}, []) for case in self.cases]
        return None


def test_workers_take_turns_round_by_round_in_abba_order():
    log = []
    cases = [case for case in _cases() if case.seed == 0]
    workers = {"tensorflow": FakeWorker("tf", log), "jax": FakeWorker("jax", log)}
    results = run_across(workers, cases, "G")
    assert [record["case_id"] for record, _ in results] == [case.case_id for case in cases]
    assert all(record["how"] == "finish" for record, _ in results)
    rounds = [(worker, args[0]) for worker, step, *args in log if step == "run_round"]
    # 4 members x 0.01 s over 2 x 0.004 s rounds: 5 rounds per phase, two phases
    assert len(rounds) == 2 * 2 * 5
    first_phase = rounds[:10]
    assert first_phase == [("tf", 0), ("jax", 0), ("jax", 1), ("tf", 1), ("tf", 2), ("jax", 2),
                           ("jax", 3), ("tf", 3), ("tf", 4), ("jax", 4)]
    calibrations = [i for i, (_, step, *_) in enumerate(log) if step == "calibrate"]
    ends = [i for i, (_, step, *_) in enumerate(log) if step == "end_phase"]
    assert len(calibrations) == len(ends) == 4 and max(calibrations[:2]) < min(ends[:2]) < min(calibrations[2:])


def test_a_failed_step_times_every_share_alone():
    log = []
    cases = [case for case in _cases() if case.seed == 0]
    workers = {"tensorflow": FakeWorker("tf", log), "jax": FakeWorker("jax", log, fail_round=2)}
    results = run_across(workers, cases, "G")
    assert sorted(record["how"] for record, _ in results) == ["alone"] * 4
    assert not any(step == "finish" for _, step, *_ in log)
