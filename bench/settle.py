"""Spend seeds where a verdict is still open (``normbench run --settle N``).

Running every suite with ten seeds would cost several times a full run, and most comparisons are
decided with three to five. After a run, each model suite's accuracy verdicts are computed as the
report computes them (:mod:`report.verdicts`); at every setting still open, the report's estimate of
the seeds that would settle it (from the observed spread) is taken, capped at ``max_seeds``, and the
cases of that setting's candidates are planned for the missing seeds, and only those. The planned
cases are kept in run.json (``extra_cases``) so an interrupted run resumes them. One round: the
estimate is an estimate, and the report says which settings stay open.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

from bench.suite import Case, Suite, expand


def settle_cases(records: list[dict], suites: Sequence[Suite], quick: bool, max_seeds: int,
                 verdict_options: dict[str, dict] | None = None) -> list[Case]:
    """Cases with new seeds for every open accuracy verdict of ``records`` (model suites only)."""
    from report.frame import records_frame
    from report.verdicts import setting_verdicts

    frame = records_frame(records)
    planned: dict[str, Case] = {}
    for suite in suites:
        base = suite.quick if quick and suite.quick is not None else suite
        if base.kind != "model":
            continue
        options = (verdict_options or {}).get(suite.name, base.verdicts)
        suite_frame = frame[frame["suite"] == suite.name]
        seen = [int(s) for s in suite_frame["seed"].dropna().unique()] + list(base.seeds)
        for verdict in setting_verdicts(suite_frame, None, options):
            if verdict.metric != "accuracy" or verdict.decision.outcome != "open" or not verdict.decision.needed:
                continue
            target = min(verdict.decision.needed, max_seeds)
            seeds = _new_seeds(seen, target - verdict.diff.n)
            if not seeds:
                continue
            more = dataclasses.replace(base, seeds=tuple(seeds), quick=None)
            for case in expand(more):
                if _in_setting(case, verdict.setting):
                    planned.setdefault(case.case_id, case)
    return list(planned.values())


def _new_seeds(existing: Sequence[int], count: int) -> list[int]:
    """``count`` seeds after every seed the suite has used, so extra seeds never repeat one (a
    second --settle round continues after the first's)."""
    start = max(existing, default=-1) + 1
    return list(range(start, start + max(count, 0)))


def _in_setting(case: Case, setting: dict) -> bool:
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
