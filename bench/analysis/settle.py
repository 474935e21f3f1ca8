"""Where more seeds would decide a headline comparison (``normbench run --settle N``).

Running every suite with ten seeds would cost several times a full run, and most comparisons are
decided with three to five. After a run, each suite's headline verdicts (whatever their kind:
best against runner-up, against a baseline, against a second field, throughput) are computed as the
report computes them; at every setting still open, the observed spread's estimate of the seeds
that would settle it is taken, capped at ``max_seeds``. The engine turns each request into cases
(:mod:`bench.execute.settle`). One round: the estimate is an estimate, and the report says which
settings stay open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from bench.analysis.verdicts import headline, setting_verdicts


@dataclass(frozen=True)
class SeedRequest:
    """New ``seeds`` for every candidate at ``setting`` (device, shared axis values, and the
    normalizer when an axis's values compete)."""

    setting: dict
    seeds: tuple[int, ...]


def seed_requests(frame: pd.DataFrame, options: dict, used_seeds: Sequence[int], max_seeds: int) -> list[SeedRequest]:
    """One request per open headline comparison of one suite's records that more seeds could settle;
    new seeds continue after every seed the suite has used, so a second round never repeats one."""
    seen = [int(s) for s in frame["seed"].dropna().unique()] + [int(s) for s in used_seeds]
    requests = []
    for verdict in headline(setting_verdicts(frame, None, options), options):
        if verdict.decision.outcome != "open" or not verdict.decision.needed:
            continue
        target = min(verdict.decision.needed, max_seeds)
        seeds = new_seeds(seen, target - verdict.diff.n)
        if seeds:
            requests.append(SeedRequest(verdict.setting, tuple(seeds)))
    return requests


def new_seeds(existing: Sequence[int], count: int) -> list[int]:
    """``count`` seeds after every seed in ``existing``."""
    start = max(existing, default=-1) + 1
    return list(range(start, start + max(count, 0)))
