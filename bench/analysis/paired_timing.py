"""Speed differences from timing rounds that ran interleaved: round r of one candidate against round r
of another, timed moments apart in the same worker (``timing_group`` in the records).

Timings drift 15-40% between slots, processes and minutes on a shared machine; two candidates timed
apart carry that drift into their ratio, and no number of rounds removes it. Timed in turn, round by
round, both see the same slow spell, and the per-round ratio cancels it: the paired comparison of
timings that pyperf's and asv's docs recommend for small differences (interleave, then compare
paired samples). A run without ``timing_group`` (every run before it existed) has no pairs: the
callers then keep their unpaired analysis.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.stats import Difference, difference

PHASE = "train"  # the training step: what train_samples_per_sec reports


def paired_log_speed(group: pd.DataFrame, a: str, b: str, rounds: dict, phase: str = PHASE, looks: int = 1
                     ) -> tuple[Difference, str] | None:
    """log(speed of ``a``) - log(speed of ``b``) from their paired rounds at one setting, and what a
    sample is ("rounds" or "seeds"); None when no timing group holds both candidates.

    Every paired round of every group counts (a paired t-interval over rounds); with two or more
    groups (seeds, each timed in its own stretch of the run) the mean of each group is a sample too,
    and the wider of the two intervals is kept: a difference between groups that rounds cannot see
    (another process, another model's memory layout) then widens the interval instead of hiding.
    ``looks``: a budgeted run's sequential looks, over which both intervals are widened
    (bench.analysis.stats), as every other verdict's are."""
    if "timing_group" not in group.columns:
        return None
    by_round: tuple[dict, dict] = ({}, {})
    by_group: tuple[dict, dict] = ({}, {})
    for timing_group, members in group.dropna(subset=["timing_group"]).groupby("timing_group"):
        speeds = [_log_speeds(members[members["candidate"] == name], rounds, phase) for name in (a, b)]
        if any(s is None for s in speeds):
            continue
        count = min(len(speeds[0]), len(speeds[1]))
        pairs = [(x, y) for x, y in zip(speeds[0][:count], speeds[1][:count]) if x is not None and y is not None]
        if not pairs:
            continue
        for side in (0, 1):
            by_round[side].update({(timing_group, r): pair[side] for r, pair in enumerate(pairs)})
            by_group[side][timing_group] = sum(pair[side] for pair in pairs) / len(pairs)
    if not by_round[0]:
        return None
    within = difference(*by_round, looks)
    if len(by_group[0]) >= 2:
        across = difference(*by_group, looks)
        if across.high95 - across.low95 > within.high95 - within.low95:
            return across, "seeds"
    return within, "rounds"


def _log_speeds(rows: pd.DataFrame, rounds: dict, phase: str) -> list[float | None] | None:
    """The log samples/s of each round of the one case in ``rows`` (None for a round that cannot be
    a speed); None when ``rows`` is not exactly one case with rounds."""
    if len(rows) != 1:
        return None
    row = rows.iloc[0]
    seconds = rounds.get((row["case_id"], phase))
    if not seconds:
        return None
    batch = float(row["batch_size"])
    return [math.log(batch / t) if t and t > 0 and math.isfinite(t) else None for t in seconds]
