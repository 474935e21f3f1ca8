"""The Ray executor's scheduling (which case goes to which slot, when a node times) on stand-in
workers: every call answers at once, in the order sent, so the order of calls is what is checked.
What Ray itself does (processes, placement, failures) is tested on real clusters in test_ray_executor."""

from __future__ import annotations

import dataclasses
import io
import random
from collections import deque

import pytest

from bench.execute import ray_executor
from bench.execute.ray_executor import RayExecutor, _Slot
from bench.suite import expand, load_suite
from tests.conftest import FIXTURES


class Lost(Exception):
    """A stand-in for Ray's error on a call whose worker died."""


@dataclasses.dataclass(eq=False)
class Ref:
    """A call in flight (hashed by identity, as Ray's ObjectRefs are by id)."""

    slot: str
    method: str
    args: tuple
    result: object


class FakeRay:
    """The few ``ray`` calls the executor's loop makes, over calls that are answered in order sent."""

    class exceptions:
        RayError = Lost

    def __init__(self):
        self.in_flight: list = []
        self.log: list[tuple] = []

    def send(self, slot: str, method: str, args: tuple, result):
        if method == "timing":  # a node's timing runs with nothing else in flight there
            assert not self.in_flight, f"timing {args} while {len(self.in_flight)} other call(s) ran"
        ref = Ref(slot, method, args, result)
        self.in_flight.append(ref)
        self.log.append((slot, method, args))
        return ref

    def wait(self, refs, num_returns, timeout):
        ready = [ref for ref in self.in_flight if ref in refs][:1]
        return ready, [ref for ref in refs if ref not in ready]

    def get(self, ref):
        self.in_flight.remove(ref)
        if isinstance(ref.result, Exception):
            raise ref.result
        return ref.result

    def kill(self, actor, no_restart=True):
        self.in_flight = [ref for ref in self.in_flight if ref.slot != actor.name]

    def nodes(self):
        return [{"NodeID": "node", "Alive": True}]


class FakeActor:
    """A slot's worker: quality answers None (trained, timing to come) or a failed record; timing
    answers a record per case, stamped with the timing group it was given."""

    def __init__(self, ray: FakeRay, name: str, fail: set, lose: list):
        self.ray, self.name = ray, name
        self.quality = self._method("quality", lambda case: (_record(case["case_id"], "failed"), [])
                                    if case["case_id"] in fail else None)
        self.timing = self._method("timing", lambda ids, group=None: lose.pop(0) if lose and group else
                                   [(_record(case_id, "ok", group), []) for case_id in ids])
        self.ready = self._method("ready", lambda: {"node_id": "node", "label": "host/node"})

    def _method(self, name, answer):
        actor = self

        class Method:
            @staticmethod
            def remote(*args):
                return actor.ray.send(actor.name, name, args, answer(*args))

        return Method


def _record(case_id: str, status: str, group: str | None = None) -> dict:
    return {"case_id": case_id, "status": status, "timing_group": group}


def executor(slots: int = 2, fail: set = frozenset(), lose: list | None = None) -> tuple[RayExecutor, FakeRay, list]:
    """A RayExecutor over ``slots`` stand-in workers on one node; ``fail``: case ids whose quality
    fails; ``lose``: errors the next group timing calls raise (a worker lost while timing)."""
    ray, finished, lose = FakeRay(), [], [] if lose is None else lose
    made = iter(range(1000))

    def new_slot(device, node_id=None, cpus=None):
        name = f"w{next(made)}"
        slot = _Slot(device=device, actor=FakeActor(ray, name, fail, lose), cpus=1, node_id=node_id)
        slot.call, slot.deadline = slot.actor.ready.remote(), float("inf")
        return slot

    ex = RayExecutor.__new__(RayExecutor)
    ex.run_id, ex.stream, ex.ray, ex.threads = "run", io.StringIO(), ray, 1
    ex.flushing, ex.queues, ex.alone, ex.more, ex.ask = set(), {}, set(), None, False
    ex._new_slot = new_slot
    ex.slots = [new_slot("cpu") for _ in range(slots)]
    ex._wait_started()
    ex.finished = lambda record, benchmarks, label: finished.append(record)
    return ex, ray, finished


def tiny_cases(seeds=(0,)) -> list:
    """The tiny suite's CPU cases (two settings of four candidates each), shuffled."""
    suite = dataclasses.replace(load_suite(FIXTURES / "suites" / "tiny.yaml"), seeds=tuple(seeds))
    cases = [case for case in expand(suite) if case.device == "cpu"]
    random.Random(3).shuffle(cases)
    return cases


def by_slot(log: list, method: str) -> dict[str, list]:
    calls: dict[str, list] = {}
    for slot, name, args in log:
        if name == method:
            calls.setdefault(slot, []).append(args)
    return calls


def setting(case_id: str) -> str:
    """The batch size and seed of a tiny case id (what its timing group is)."""
    parts = case_id.split("/")
    return parts[2].split(",")[0] + "/" + parts[3]


def test_a_settings_candidates_train_on_one_slot_in_a_row_and_are_timed_in_one_call():
    ex, ray, finished = executor()
    ex._run(tiny_cases())
    assert sorted(r["case_id"] for r in finished) == sorted(c.case_id for c in tiny_cases())
    trained = by_slot(ray.log, "quality")
    assert len(trained) == 2  # each slot took one setting's four candidates, one after another
    for calls in trained.values():
        assert len(calls) == 4 and len({setting(case["case_id"]) for (case,) in calls}) == 1
    timed = [args for _, name, args in ray.log if name == "timing"]
    assert sorted(len(ids) for ids, _ in timed) == [4, 4]
    for ids, group in timed:
        assert group is not None and len({setting(case_id) for case_id in ids}) == 1
    assert {r["timing_group"] for r in finished} == {group for _, group in timed}


def test_cases_fed_while_the_run_goes_are_grouped_too():
    ex, ray, finished = executor()
    fed = deque([tiny_cases(seeds=(1,)), []])
    ex.more, ex.ask = (lambda: fed.popleft() if fed else []), True
    ex._run(tiny_cases())
    assert len(finished) == 16 and not fed
    timed = [args for _, name, args in ray.log if name == "timing"]
    assert sorted(len(ids) for ids, _ in timed) == [4, 4, 4, 4]
    assert all(len({setting(case_id) for case_id in ids}) == 1 for ids, _ in timed)


def test_a_slot_holds_at_most_a_group_more_than_its_pending_limit_and_times_before_taking_more():
    ex, ray, finished = executor(slots=1)
    ex._run(tiny_cases(seeds=(0, 1)))
    assert len(finished) == 16
    held, most = 0, 0
    for _, name, args in ray.log:
        held += 1 if name == "quality" else -len(args[0]) if name == "timing" else 0
        most = max(most, held)
    assert most <= max(ray_executor.PENDING_TIMINGS, ray_executor.MAX_GROUP)
    timed = [args for _, name, args in ray.log if name == "timing"]
    assert sorted(len(ids) for ids, _ in timed) == [4, 4, 4, 4]


def test_a_failed_candidate_leaves_its_group_timed_together_and_the_worker_replaced_after_it():
    cases = tiny_cases()
    culprit = cases[0].case_id
    ex, ray, finished = executor(fail={culprit})
    ex._run(cases)
    status = {r["case_id"]: r["status"] for r in finished}
    assert status.pop(culprit) == "failed" and set(status.values()) == {"ok"} and len(status) == 7
    timed = [args for _, name, args in ray.log if name == "timing"]
    assert sorted(len(ids) for ids, _ in timed) == [3, 4]  # the other three still timed together
    worker = next(slot for slot, name, args in ray.log if name == "quality" and args[0]["case_id"] == culprit)
    assert len(by_slot(ray.log, "quality")[worker]) == 4  # it trained the rest of its group first
    assert [name for slot, name, _ in ray.log if slot == worker][-1] == "timing"  # then timed them, then went
    assert len({slot for slot, name, _ in ray.log if name == "ready"}) == 3  # and a fresh worker started


def test_a_worker_lost_timing_a_group_sends_its_cases_back_each_to_be_timed_alone():
    ex, ray, finished = executor(lose=[Lost("worker died")])
    ex._run(tiny_cases())
    assert sorted(r["case_id"] for r in finished) == sorted(c.case_id for c in tiny_cases())
    assert all(r["status"] == "ok" for r in finished)  # no culprit to blame: none fails
    timed = [args for _, name, args in ray.log if name == "timing"]
    groups = [ids for ids, group in timed if group is not None]
    alone = [ids for ids, group in timed if group is None]
    assert sorted(map(len, groups)) == [4, 4] and len(alone) == 4 and all(len(ids) == 1 for ids in alone)
    assert {ids[0] for ids in alone} == set(groups[0])  # the lost group's cases, retrained and timed alone
    assert "timed alone" in ex.stream.getvalue()


@pytest.mark.parametrize("phase", ["quality", "timing"])
def test_a_timed_out_call_fails_only_its_own_case(phase):
    """A case timed alone (no group) that outlives its timeout is the culprit; its group's others,
    trained or not, go back to the queue and finish."""
    cases = [case for case in tiny_cases() if "batch_size=8" in case.case_id]
    ex, ray, finished = executor(slots=1)
    culprit = cases[1].case_id
    original = ex._dispatch

    def dispatch(queues):
        original(queues)
        for slot in ex.slots:  # the culprit's call never ends: let its deadline pass
            if slot.call is not None and slot.phase == phase and culprit in str(slot.call.args):
                slot.deadline = -1
                ray.in_flight.remove(slot.call)
    ex._dispatch = dispatch
    ex.alone.add(culprit)  # timed alone, so a timing-phase timeout has a culprit
    ex._run(cases)
    status = {r["case_id"]: r["status"] for r in finished}
    assert len(status) == 4 and status.pop(culprit) == "failed" and set(status.values()) == {"ok"}
    (record,) = [r for r in finished if r["case_id"] == culprit]
    assert f"during {phase} (worker killed)" in record["error"]
