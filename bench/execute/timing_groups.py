"""Which cases are timed together: the candidates of one setting and seed, on one Keras backend, or
on every backend when the suite has a ``backend`` grid axis (its candidates are backends).

Speed verdicts compare the candidates of a setting (bench.analysis.comparisons); timed in one worker,
round by round in turn, their per-round ratios cancel the machine's drift (bench.analysis.paired_timing).
A group is every queued model case of one suite, seed, device and backend whose shared grid values
match: the axes some normalizers lack (momentum for LayerNorm) name candidates, not settings, so they
are left out of the key. A suite whose candidates are one axis's values (``verdicts.candidates``)
groups only where that axis is normalizer-specific; layer cases and replicated ones are timed alone.
A group that spans backends is trained in one worker per backend and timed with the workers taking
turns round by round (bench.execute.across_backends): a worker's backend is fixed when Keras loads.
"""

from __future__ import annotations

import json
from collections import deque

from bench.measure.warm_models import KEPT, configuration
from bench.suite import Case

MAX_GROUP = 6  # trained models a worker holds at once for one group's timing


def group_key(case: Case, specific: frozenset = frozenset()) -> str | None:
    """The timing group's id (readable: suite, shared axes, seed, device, backend), or None for a case
    timed alone; ``specific``: the axes that name candidates (those some normalizer lacks)."""
    if case.workload != "model" or case.settings.get("replicas", 1) != 1 or not case.timed:
        return None
    skip = specific | set(case.not_applicable) | {"backend"}
    axes = ",".join(f"{axis}={json.dumps(value, default=str)}" for axis, value in sorted(case.axes.items())
                    if axis not in skip)
    backend = ACROSS_BACKENDS if spans_backends(case) else backend_of(case)
    return f"{case.suite}/{axes}/seed={case.seed}/{case.device}/{backend}"


ACROSS_BACKENDS = "backends"  # the last part of a group key whose cases span Keras backends


def spans_backends(case: Case) -> bool:
    """Whether ``case``'s timing group takes the same setting on every Keras backend: a model case of
    a suite with a ``backend`` grid axis (its speed verdicts compare backends)."""
    return case.workload == "model" and case.settings.get("replicas", 1) == 1 and "backend" in case.axes


def backend_of(case: Case) -> str:
    return case.settings.get("backend", "tensorflow")


def take_group(first: Case, queue: deque, alone: set | frozenset = frozenset()) -> list[Case]:
    """``first`` and the queued cases of its timing group (taken off ``queue``, order kept), at most
    ``MAX_GROUP`` per Keras backend; cases whose ids are in ``alone`` are neither grouped nor taken."""
    if first.case_id in alone:
        return [first]
    specific = frozenset(axis for case in (first, *queue) if case.suite == first.suite
                         for axis in case.not_applicable)
    key = group_key(first, specific)
    if key is None:
        return [first]
    group = [first]
    for case in list(queue):
        full = sum(backend_of(held) == backend_of(case) for held in group) >= MAX_GROUP
        if not full and case.case_id not in alone and group_key(case, specific) == key:
            group.append(case)
            queue.remove(case)
    return group


def group_id(cases: list[Case]) -> str | None:
    """The ``timing_group`` recorded for cases taken together (None for one case alone)."""
    if len(cases) < 2:
        return None
    return group_key(cases[0], frozenset(axis for case in cases for axis in case.not_applicable))


class Affinity:
    """The configurations a worker trained last, so the next group it takes is one it has traced
    steps for (bench.measure.warm_models keeps them): the queue's first case of such a
    configuration goes first, with its group; with none queued, the queue's first case does."""

    def __init__(self):
        self.recent: deque[str] = deque(maxlen=KEPT)
        self._keys: dict[str, str | None] = {}

    def take(self, queue: deque, alone: set | frozenset = frozenset()) -> list[Case]:
        """The next group off ``queue`` (:func:`take_group`), noted as trained here."""
        first = next((case for case in queue if self.recent and self._key(case) in self.recent), None)
        if first is None:
            first = queue[0]
        queue.remove(first)
        group = take_group(first, queue, alone)
        for case in group:
            key = self._key(case)
            if key is not None:
                if key in self.recent:
                    self.recent.remove(key)
                self.recent.append(key)
        return group

    def _key(self, case: Case) -> str | None:
        if case.case_id not in self._keys:
            self._keys[case.case_id] = configuration(case)
        return self._keys[case.case_id]
