"""The Ray executor: cases on the slots of a Ray cluster, quality side by side, timing alone per node.

Each slot is a Ray actor (a long-lived worker process with TensorFlow imported once, its thread
pools pinned to the CPUs the actor holds). A case runs in two calls on its slot: ``quality``
(train, evaluate; runs beside other cases) and ``timing`` (step or layer timing, copy kernel). A
slot takes a setting's candidates together (a timing group, bench.execute.timing_groups) and trains
them one after another; once all are trained, one timing call times them interleaved round by round
(bench.execute.in_worker.time_together), so speed verdicts pair their rounds. A slot keeps up to
``PENDING_TIMINGS`` trained cases whose timing is still to come (at most ``MAX_GROUP``: a whole
group) and goes on training the next ones; when one slot has that many (or no case is left to
overlap), its node takes no new case, and once no other call runs there, the node's complete groups
are timed one call after another, so every throughput figure is measured with the node to itself
(recorded as ``timing_exclusive``). Timing one case at a time made both slots of a node wait for
each other after every case (the slot done first idles while the other finishes its training).

Layer-suite cases are timing alone, with nothing to overlap: they run last, on one worker per node
that holds all of the node's CPUs and uses them as TensorFlow threads (a memory-bound kernel ran at
0.62x with one thread of two). Ray does the placement, the processes and the failure detection;
this module only decides what to send to which slot next.

A slot whose worker dies (crash, out of memory, its node lost) or outlives the case timeout is
killed; its case becomes a ``failed`` record with the reason (not retried: ``--resume`` keeps it)
and the slot is replaced, on the same node while that node is alive. The trained cases it held for
timing, and the rest of its group, are queued again: they did not cause the loss. A worker lost
while timing a group has no single culprit: the group's cases are queued again, each to be trained
and timed alone, so the one that causes it fails by itself.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bench.core.errors import NormbenchError
from bench.execute import ray_cluster
from bench.measure import backends
from bench.execute.contract import MAX_CASES_PER_WORKER, START_TIMEOUT, Execution, Finished
from bench.execute.timing_groups import MAX_GROUP, Affinity, group_id
from bench.results.records import new_record, now
from bench.suite import Case

POLL_SECONDS = 0.5
CASE_PHASES = ("quality", "timing")  # a slot in one of these has a call in flight for a case
PENDING_TIMINGS = 4  # trained cases a slot may hold before its node stops to time them


class CaseWorker:
    """The actor class: one slot's worker process (``ray.remote`` is applied in RayExecutor)."""

    def __init__(self, run_id: str, threads: int, slot_cpus: int, backend: str = "tensorflow"):
        import ray

        from bench.execute.in_worker import start_worker

        self.run_id = run_id
        self.datasets: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}  # case_id -> CaseRun whose timing is still to come
        self.info = start_worker(threads, backend)
        node_id = ray.get_runtime_context().get_node_id()
        self.info.update(node_id=node_id, label=f"{self.info['host']}/{node_id[:8]}")
        self.placement = {"executor": "ray", "node": self.info["label"], "slot_cpus": slot_cpus,
                          "threads": threads, "timing_exclusive": None}

    def ready(self) -> dict:
        return self.info

    def quality(self, case: dict):
        from bench.execute.in_worker import CaseRun

        run = CaseRun(Case.from_dict(case), self.run_id, self.datasets, self.placement)
        finished = run.quality()
        if finished is None:
            self.pending[run.case.case_id] = run
        return finished

    def timing(self, case_ids: list[str], timing_group: str | None = None) -> list:
        """Time trained cases: alone, or (``timing_group`` given) interleaved round by round."""
        from bench.execute.in_worker import time_together

        runs = [self.pending.pop(case_id) for case_id in case_ids]
        if timing_group is None:
            return [run.timing() for run in runs]
        return time_together(runs, timing_group)


@dataclass
class _Slot:
    device: str
    actor: Any
    cpus: int
    node_id: str | None = None
    label: str = "?"
    phase: str = "start"  # start -> idle -> quality -> idle (case pending) ... timing -> idle
    call: Any = None      # the ObjectRef in flight
    case: Case | None = None  # the case of the call in flight (None while a group is timed)
    limit: float = 0.0    # the call's time limit, in seconds
    todo: deque = field(default_factory=deque)  # the rest of its timing group, to train next here
    group: str | None = None  # that group's timing_group id
    pending: list = field(default_factory=list)  # trained cases whose timing call is still to come
    group_of: dict = field(default_factory=dict)  # case_id -> its timing_group id (None: timed alone)
    batch: list = field(default_factory=list)  # the cases of the timing call in flight
    retiring: bool = False  # replace the worker once its pending cases are timed
    deadline: float = 0.0
    cases_run: int = 0
    affinity: Affinity = field(default_factory=Affinity)  # its worker's kept traced steps, by configuration
    info: dict = field(default_factory=dict)


class RayExecutor:
    def __init__(self, run_id: str, execution: Execution, stream, keras_backends=("tensorflow",)):
        """Slots for one Keras backend (``keras_backends`` names one): a run that spans backends
        starts the cluster's slots once per backend."""
        (self.keras_backend,) = keras_backends
        self.run_id = run_id
        self.stream = stream
        workers = execution.workers
        self.threads = execution.threads
        cores = os.cpu_count() or 1
        try:
            if execution.address is None:
                slots = workers or cores
                self.slot_cpus = execution.threads or max(1, cores // slots)
                self.cluster = ray_cluster.connect(None, num_cpus=max(cores, slots * self.slot_cpus))
            else:
                self.cluster = ray_cluster.connect(execution.address)
                self.slot_cpus = execution.threads or 1
                slots = workers or max(1, self.cluster.cpus // self.slot_cpus)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while Ray starts: stop what it started
            ray_cluster.disconnect()
            raise
        import ray

        self.ray = ray
        self.actor_class = ray.remote(CaseWorker)
        self.flushing: set = set()  # nodes timing their slots' pending cases: they take no new case
        self.queues: dict[str, deque] = {}
        self.alone: set[str] = set()  # case ids to time alone: their group's worker was lost while timing it
        self.more, self.ask = None, False  # a budgeted run's source of further cases (execute sets it)
        try:
            if slots * self.slot_cpus > self.cluster.cpus:
                raise NormbenchError(f"{slots} workers of {self.slot_cpus} CPU(s) need {slots * self.slot_cpus} "
                                     f"CPUs; the Ray cluster has {self.cluster.cpus}")
            self.slots = [self._new_slot("cpu") for _ in range(slots)]
            self.slots += [self._new_slot("gpu") for _ in range(self.cluster.gpus)]
            self._wait_started()
        except BaseException:
            self.stop()
            raise
        first = next(s for s in self.slots if s.device == "cpu").info
        self.framework = first["framework"]
        gpu_slots = [s for s in self.slots if s.device == "gpu"]
        if not gpu_slots:
            self.gpu_reason = (f"no GPU in the Ray cluster ({len(self.cluster.nodes)} node(s), "
                               f"{self.cluster.cpus} CPUs)")
        else:
            self.gpu_reason = gpu_slots[0].info["gpu_reason"]
        if self.gpu_reason:
            for slot in gpu_slots:
                self._drop(slot)
        self.frameworks = {self.keras_backend: self.framework}
        self.gpu_reasons = {self.keras_backend: self.gpu_reason}
        self.unavailable: dict[str, str] = {}

    # -- what the driver asks ------------------------------------------------------------------

    def describe(self) -> dict:
        nodes = [{"node": f"{n['NodeManagerHostname']}/{n['NodeID'][:8]}", "cpus": n["Resources"].get("CPU", 0),
                  "gpus": n["Resources"].get("GPU", 0)} for n in self.cluster.nodes]
        return {"executor": "ray", "cluster": self.cluster.address, "ray": self.ray.__version__, "nodes": nodes,
                "workers": sum(s.device == "cpu" for s in self.slots), "slot_cpus": self.slot_cpus,
                "threads": self._threads(self.slot_cpus), "started_at": now()}

    def running_by_node(self) -> dict[str, int]:
        running: dict[str, int] = {}
        for slot in self.slots:
            held = (slot.phase == "quality") + len(slot.batch) + len(slot.pending)
            if held:
                running[slot.label] = running.get(slot.label, 0) + held
        return running

    def execute(self, cases: list[Case], finished: Finished, more=None) -> None:
        """Model cases on the slots (and whatever ``more`` adds as they finish); then CPU layer cases
        (all timing, nothing to overlap) on one worker per node that holds and uses all of the
        node's CPUs, as a serial run would."""
        self.finished = finished
        self.more, self.ask = more, more is not None
        whole_node = [case for case in cases if case.workload == "layer" and case.device == "cpu"]
        self._run([case for case in cases if not (case.workload == "layer" and case.device == "cpu")])
        self.more = None
        if whole_node:
            self._one_worker_per_node()
            self._run(whole_node)

    def _run(self, cases: list[Case]) -> None:
        queues = {device: deque(case for case in cases if case.device == device) for device in ("cpu", "gpu")}
        self.queues = queues
        while self._feed(queues) or any(slot.phase in CASE_PHASES or slot.pending or slot.todo for slot in self.slots):
            for device, queue in queues.items():
                if queue and not any(slot.device == device for slot in self.slots):
                    raise NormbenchError(f"every Ray worker for {device.upper()} cases was lost; finished "
                                         f"cases are kept, resume when the cluster is back")
            self._dispatch(queues)
            calls = {slot.call: slot for slot in self.slots if slot.call is not None}
            if calls:
                ready, _ = self.ray.wait(list(calls), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    self._collect(calls[ref])
            self._enforce_deadlines()

    def _feed(self, queues: dict[str, deque]) -> bool:
        """Whether cases are queued, after asking ``more`` for some when the queues ran dry and a
        case finished since the last ask (a budgeted run's next seeds: no slot waits for a round)."""
        if self.more is not None and self.ask and not any(queues.values()):
            self.ask = False
            for case in self.more():
                queues[case.device].append(case)
        return any(queues.values())

    def stop(self) -> None:
        """Kill every slot's worker, then leave the cluster (an embedded one shuts down with it)."""
        for slot in getattr(self, "slots", []):
            self._kill(slot)
        self.slots = []
        ray_cluster.disconnect()

    # -- scheduling ----------------------------------------------------------------------------

    def _dispatch(self, queues: dict[str, deque]) -> None:
        for node_id in {slot.node_id for slot in self.slots}:
            on_node = [slot for slot in self.slots if slot.node_id == node_id]
            if any(self._must_time(slot, queues) for slot in on_node):
                self.flushing.add(node_id)
            timed = [slot for slot in on_node if self._ready(slot)]
            if not timed:
                self.flushing.discard(node_id)
            elif node_id in self.flushing and not any(slot.call is not None for slot in on_node):
                self._time(timed[0])
        for slot in self.slots:
            if slot.phase != "idle" or slot.node_id in self.flushing:
                continue
            if not slot.todo:  # its group is trained: the next one, if the slot may hold it
                queue = queues[slot.device]
                if slot.retiring or not queue:
                    continue
                group = slot.affinity.take(queue, self.alone)
                if slot.pending and len(slot.pending) + len(group) > max(PENDING_TIMINGS, MAX_GROUP):
                    queue.extendleft(reversed(group))
                    self.flushing.add(slot.node_id)  # time what it holds first
                    continue
                slot.todo, slot.group = deque(group), group_id(group)
            case = slot.case = slot.todo.popleft()
            slot.group_of[case.case_id] = slot.group
            self._call(slot, "quality", slot.actor.quality.remote(case.to_dict()), case.timing["case_timeout"])

    def _time(self, slot: _Slot) -> None:
        """Time the slot's first complete group (or case) that waits for it, in one call."""
        ready = self._ready(slot)
        key = slot.group_of.get(ready[0].case_id)
        batch = [case for case in ready if key is not None and slot.group_of.get(case.case_id) == key] or ready[:1]
        slot.pending = [case for case in slot.pending if case not in batch]
        slot.batch, slot.case = batch, batch[0] if len(batch) == 1 else None
        ref = slot.actor.timing.remote([case.case_id for case in batch], key if len(batch) > 1 else None)
        self._call(slot, "timing", ref, sum(case.timing["case_timeout"] for case in batch))

    @staticmethod
    def _ready(slot: _Slot) -> list[Case]:
        """The slot's trained cases whose group is trained in full (a group still in training waits)."""
        return [case for case in slot.pending if not (slot.todo and slot.group_of.get(case.case_id) == slot.group)]

    def _must_time(self, slot: _Slot, queues: dict[str, deque]) -> bool:
        """A slot's pending cases must be timed now (its group trained in full): it holds as many as
        it may, its worker is to be replaced, or no case is left to train beside them."""
        return (not slot.todo and bool(self._ready(slot))
                and (len(slot.pending) >= PENDING_TIMINGS or slot.retiring or not queues[slot.device]))

    def _one_worker_per_node(self) -> None:
        for slot in [slot for slot in self.slots if slot.device == "cpu"]:
            self._drop(slot)
        for node in self.cluster.nodes:
            cpus = int(node["Resources"].get("CPU", 0))
            if cpus and node["NodeID"] in self._alive_nodes():
                self.slots.append(self._new_slot("cpu", node["NodeID"], cpus))
        self._wait_started()

    def _call(self, slot: _Slot, phase: str, ref, timeout: float) -> None:
        slot.phase, slot.call, slot.limit = phase, ref, timeout
        slot.deadline = time.monotonic() + timeout

    def _collect(self, slot: _Slot) -> None:
        ref, phase, case = slot.call, slot.phase, slot.case
        slot.call = None
        try:
            result = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self._lost(slot, f"worker lost during {phase}: {_reason(exc)}")
            return
        if phase == "start":
            slot.info = result
            slot.node_id, slot.label, slot.phase = result["node_id"], result["label"], "idle"
        elif phase == "quality" and result is None:
            slot.phase, slot.case = "idle", None
            slot.pending.append(case)
        else:
            finished = result if phase == "timing" else [result]
            slot.phase, slot.case, slot.batch = "idle", None, []
            for record, benchmarks in finished:
                if phase == "timing":
                    record["timing_exclusive"] = True  # _dispatch started it with its node otherwise idle
                self._done(slot, record, benchmarks)
            if slot.retiring and not slot.pending and not slot.todo:
                self._replace(slot)  # only once its group is done: its trained cases live in that worker

    def _done(self, slot: _Slot, record: dict, benchmarks: list) -> None:
        self.ask = self.more is not None
        slot.cases_run += 1
        slot.group_of.pop(record["case_id"], None)
        if record["status"] == "failed" or slot.cases_run >= MAX_CASES_PER_WORKER:
            # a failure may leave the worker unfit; long-lived ones leak a little. It still trains the
            # rest of its group (as a serial worker does), then is replaced.
            slot.retiring = True
        self.finished(record, benchmarks, slot.label)

    def _enforce_deadlines(self) -> None:
        clock = time.monotonic()
        for slot in list(self.slots):
            if slot.call is not None and clock > slot.deadline:
                limit = START_TIMEOUT if slot.phase == "start" else slot.limit
                self._lost(slot, f"timed out after {limit:g} s during {slot.phase} (worker killed)")

    def _lost(self, slot: _Slot, reason: str) -> None:
        """The slot's worker is dead or killed: the case of the call in flight (if any) fails; the
        trained cases it held for timing (their results lived in that worker) and the rest of its
        group did not cause it and go back to the front of the queue (each loss has one culprit that
        fails, so this cannot loop); the slot is replaced. Lost while timing a group, the group's
        cases go back too, each to be timed alone: then the culprit fails by itself."""
        case, phase, pending, batch = slot.case, slot.phase, slot.pending, slot.batch
        self._kill(slot)
        if phase == "start":
            self._drop(slot)
            self.say(f"a Ray worker could not start ({reason}); {len(self.slots)} left")
            return
        if len(batch) > 1:
            self.say(f"a worker on {slot.label} was lost timing {len(batch)} cases together ({reason}); "
                     f"they run again, each timed alone")
            self.alone.update(held.case_id for held in batch)
            pending = batch + pending
        if pending:
            self.say(f"{len(pending)} trained case(s) held by the lost worker on {slot.label} go back to the queue")
        for held in reversed(pending + list(slot.todo)):
            self.queues[held.device].appendleft(held)
        slot.phase, slot.case, slot.pending, slot.batch, slot.todo, slot.group_of = "idle", None, [], [], deque(), {}
        if slot.node_id in self._alive_nodes():
            self._replace(slot)
        else:
            self._drop(slot)
            self.say(f"node {slot.label} is gone; {len(self.slots)} worker(s) left")
        if case is not None:
            record = new_record(case, self.run_id)
            record.update(executor="ray", node=slot.label, slot_cpus=slot.cpus, threads=self._threads(slot.cpus),
                          status="failed", error=reason[:2000])
            self.finished(record, [], slot.label)

    # -- slots ---------------------------------------------------------------------------------

    def _new_slot(self, device: str, node_id: str | None = None, cpus: int | None = None) -> _Slot:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        cpus = cpus or self.slot_cpus
        strategy = NodeAffinitySchedulingStrategy(node_id, soft=True) if node_id else "SPREAD"
        resources = {"num_cpus": 0, "num_gpus": 1} if device == "gpu" else {"num_cpus": cpus}
        # the driver's ask, for cases with replicas: an embedded cluster inherits it anyway, a cluster
        # started elsewhere (--address) gets it through the actor's runtime_env
        wanted = os.environ.get(backends.REPLICA_DEVICES)
        if wanted:
            resources["runtime_env"] = {"env_vars": {backends.REPLICA_DEVICES: wanted}}
        actor = self.actor_class.options(scheduling_strategy=strategy, max_restarts=0, **resources).remote(
            self.run_id, self._threads(cpus), cpus, self.keras_backend)
        slot = _Slot(device=device, actor=actor, cpus=cpus, node_id=node_id)
        slot.call, slot.deadline = actor.ready.remote(), time.monotonic() + START_TIMEOUT
        return slot

    def _wait_started(self) -> None:
        while any(slot.phase == "start" for slot in self.slots):
            calls = {slot.call: slot for slot in self.slots if slot.call is not None}
            ready, _ = self.ray.wait(list(calls), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                self._collect(calls[ref])
            self._enforce_deadlines()
        if not any(slot.device == "cpu" for slot in self.slots):
            raise NormbenchError("no Ray worker could start (is normbench installed on every node?)")

    def _replace(self, slot: _Slot) -> None:
        """A fresh worker in ``slot``'s place, on the same node; until it is up, the node counts as
        busy, so its TensorFlow import never overlaps a timing call there."""
        self._kill(slot)
        fresh = self._new_slot(slot.device, slot.node_id, slot.cpus)
        fresh.label = slot.label
        self.slots[self.slots.index(slot)] = fresh

    def _threads(self, cpus: int) -> int:
        return self.threads or cpus

    def _drop(self, slot: _Slot) -> None:
        self._kill(slot)
        if slot in self.slots:
            self.slots.remove(slot)

    def _kill(self, slot: _Slot) -> None:
        try:
            self.ray.kill(slot.actor, no_restart=True)
        except Exception:  # already dead, or the cluster is going away
            pass
        slot.call = None

    def _alive_nodes(self) -> set[str]:
        return {node["NodeID"] for node in self.ray.nodes() if node.get("Alive")}

    def say(self, text: str) -> None:
        print(f"normbench: {text}", file=self.stream, flush=True)


def _reason(exc: Exception) -> str:
    """The informative part of a Ray error (they run to dozens of lines): Ray's "dead because"
    sentence (worker process died, node died, killed for memory) with its exit detail."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    because = [line for line in lines if "dead because" in line]
    text = (because or lines or [type(exc).__name__])[0]
    return text.split(" Some common causes")[0][:500]
