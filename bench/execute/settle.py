"""``--budget``: the analysis's seed requests (:mod:`bench.analysis.settle`) turned into cases of the
run's suites, round after round, while the wall-clock budget lasts.

The executors ask :meth:`SeedPlanner.more` for cases whenever their queue runs dry, so a slot never
waits for a round to end: the comparisons whose seeds are still in flight are left alone, the others
are judged again on what has finished. Every planned case is written to run.json first
(``extra_cases``), so an interrupted run resumes them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from bench.analysis import sequential
from bench.analysis.frame import records_frame
from bench.analysis.settle import SeedRequest, candidate_key, case_seconds, seed_requests
from bench.execute.runner import plan_extra_cases
from bench.execute.timing_groups import spans_backends
from bench.results.store import RunStore
from bench.suite import UNTIMED, Case, Suite, expand


@dataclass
class Budget:
    """How long a run may keep adding seeds (``seconds``: wall clock from the run's start; None: no
    limit) and the most seeds any comparison may take (``max_seeds``)."""

    seconds: float | None
    max_seeds: int = sequential.MAX_SEEDS
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return math.inf if self.seconds is None else self.seconds - (time.monotonic() - self.started)


class SeedPlanner:
    """Plans the next seeds of a budgeted run from what its store holds."""

    def __init__(self, store: RunStore, suites: Sequence[Suite], quick: bool, budget: Budget, slots: int = 1,
                 across_apart: bool = False):
        self.store, self.suites, self.quick, self.budget = store, list(suites), quick, budget
        self.slots = max(1, slots)
        # Under Ray, cases timed across Keras backends run apart, after the slots, on serial workers
        # with the machine to themselves (bench.execute.runner): each of their seconds costs every slot's.
        self.across_apart = across_apart
        self.rounds = 0
        self.budget_spent = False  # an open comparison was left unfed because the budget ran out

    def schedule(self, suite: Suite) -> tuple[int, ...]:
        """The suite's looks: its own seed count doubled up to the cap."""
        return sequential.looks(len(self._base(suite).seeds), self.budget.max_seeds)

    def more(self, keras_backends: Iterable[str] | None = None) -> list[Case]:
        """Cases for the open comparisons whose last seeds have all finished, the most informative per
        CPU-second first, as many as the budget's remaining time is estimated to hold; only those of
        ``keras_backends`` are returned (the rest stay planned in run.json for a later pass)."""
        planned = [Case.from_dict(c) for c in self.store.read_info().get("extra_cases") or []]
        done = self.store.finished_case_ids()
        pending = [case for case in planned if case.case_id not in done]
        new = [case for case in self._plan(pending) if case.case_id not in done]  # gaps filled, not redone
        if new:
            self.rounds += 1
            plan_extra_cases(self.store, new)
        wanted = set(keras_backends) if keras_backends is not None else None
        return [case for case in new + pending
                if wanted is None or case.settings.get("backend", "tensorflow") in wanted]

    def wanted(self) -> tuple[int, float]:
        """The open comparisons left unfed, and the wall-clock seconds (at this run's pace, on its
        slots) that would take each to its next look: what a larger budget would buy."""
        planned = [Case.from_dict(c) for c in self.store.read_info().get("extra_cases") or []]
        done = self.store.finished_case_ids()
        frame = records_frame(self.store.load().records)
        requests = self._requests(frame, [case for case in planned if case.case_id not in done])
        return len(requests), sum(request.seconds for _, request in requests) * self._pace(frame) / self.slots

    def _plan(self, pending: list[Case]) -> list[Case]:
        frame = records_frame(self.store.load().records)
        # the cases planned earlier and not finished yet spend the same budget first
        left = self.budget.left() * self.slots / self._pace(frame) - self._seconds(frame, pending)
        if left <= 0:
            self.budget_spent = self.budget_spent or bool(self._requests(frame, pending))
            return []
        cases: dict[str, Case] = {}
        for suite, request in self._requests(frame, pending):
            chosen = [case for case in expand(dataclasses.replace(self._base(suite), seeds=request.seeds, quick=None))
                      if in_setting(case, request.setting) and (
                          request.configs is None or candidate_key(case.normalizer, case.axes) in request.configs)]
            cost = request.seconds * max(self._weight(case) for case in chosen) if chosen else 0.0
            if cost > left:
                self.budget_spent = True
                continue
            left -= cost
            for case in chosen:
                cases.setdefault(case.case_id, case if request.timed else untimed(case))
        return list(cases.values())

    def _seconds(self, frame, cases: list[Case]) -> float:
        """The reported seconds ``cases`` are expected to take (their suite's mean case), in slots'
        seconds (:meth:`_weight`)."""
        if frame.empty or not cases:
            return 0.0
        means = {suite: case_seconds(frame[frame["suite"] == suite]) for suite in {c.suite for c in cases}}
        return sum(means[case.suite] * self._weight(case) for case in cases)

    def _weight(self, case: Case) -> int:
        """Slots a case's second occupies: all of them for a case run apart (``across_apart``), else one."""
        return self.slots if self.across_apart and spans_backends(case) else 1

    def _pace(self, frame) -> float:
        """Wall-clock CPU-seconds this run has spent per second its records report (at least 1):
        the timing phase, worker starts and the driver's own work are not in ``case_seconds``, so
        the requests' estimates are scaled by it before they are held against the budget."""
        elapsed = (time.monotonic() - self.budget.started) * self.slots
        reported = frame["case_seconds"].fillna(0).clip(lower=0).sum() if not frame.empty else 0.0
        return max(1.0, elapsed / reported) if reported > 0 else 1.0

    def _requests(self, frame, pending: list[Case]) -> list[tuple[Suite, SeedRequest]]:
        rounds = self.store.timing_rounds()
        found = []
        for suite in self.suites:
            base = self._base(suite)
            if base.workload != "model" or frame.empty:
                continue
            waiting = [case for case in pending if case.suite == suite.name]
            for request in seed_requests(frame[frame["suite"] == suite.name], base.verdicts, list(base.seeds),
                                         self.schedule(suite), rounds, base.claims):
                if not any(in_setting(case, request.setting) for case in waiting):
                    found.append((suite, request))
        return sorted(found, key=lambda pair: pair[1].value, reverse=True)

    def _base(self, suite: Suite) -> Suite:
        return suite.quick if self.quick and suite.quick is not None else suite


def untimed(case: Case) -> Case:
    """``case`` trained and evaluated with its steps not timed: an added seed that only accuracy
    comparisons asked for (bench.execute.in_worker skips the timing phase; the record says why)."""
    return dataclasses.replace(case, timing={**case.timing, UNTIMED: True})


def in_setting(case: Case, setting: dict) -> bool:
    """Whether ``case`` belongs to a verdict's setting (its device, normalizer when the setting has
    one, and every shared axis value)."""
    for key, value in setting.items():
        if key == "device":
            own = case.device
        elif key == "normalizer":
            own = case.normalizer
        else:
            own = case.axes.get(key)
        if not _same(own, value):
            return False
    return True


def _same(own, value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return own is None
    if isinstance(own, (int, float)) and not isinstance(own, bool) and isinstance(value, (int, float)):
        return math.isclose(float(own), float(value), rel_tol=1e-12)
    return str(own) == str(value)
