"""``--settle``: the analysis's seed requests turned into cases of the run's suites."""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

from bench.analysis.frame import records_frame
from bench.analysis.settle import seed_requests
from bench.suite import Case, Suite, expand


def settle_cases(records: list[dict], suites: Sequence[Suite], quick: bool, max_seeds: int,
                 verdict_options: dict[str, dict] | None = None) -> list[Case]:
    """Cases with new seeds for every open headline verdict of ``records`` (model suites only)."""
    frame = records_frame(records)
    planned: dict[str, Case] = {}
    for suite in suites:
        base = suite.quick if quick and suite.quick is not None else suite
        if base.workload != "model":
            continue
        options = (verdict_options or {}).get(suite.name, base.verdicts)
        for request in seed_requests(frame[frame["suite"] == suite.name], options, base.seeds, max_seeds):
            more = dataclasses.replace(base, seeds=request.seeds, quick=None)
            for case in expand(more):
                if in_setting(case, request.setting):
                    planned.setdefault(case.case_id, case)
    return list(planned.values())


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
