"""Runs over time on one machine: each case's series (throughput, accuracy) against date and
commit, the points where a series moved beyond its own noise, and the machine's run-to-run drift.

A run is the unit of noise: the cases of one run share its machine state (other load, clock,
cache), so the drift of a machine is estimated from whole runs, one number per run (its median
case's change), never from the cases of one run as if they were independent samples.

Change points come from ``ruptures`` (the ``history`` extra): PELT with a squared-error cost on the
series scaled by its noise (a robust standard deviation of the run-to-run differences of every case
of the suite on that machine), a penalty of :data:`PENALTY` x log(n) and segments of at least two
runs, so one odd run is noise and a level that holds for two runs or more is a change. Without ruptures every series is still shown,
with no change points and a note saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import stats

from bench.analysis.compare import DEFAULT_DRIFT, Drift, compare, compared_fields, run_shift
from bench.results.fields import FIELDS

# Per change, in units of the noise variance, times log(n): BIC's 2 would mark a change in about a third of
# honest 9-case histories here (simulated: shared 8% run drift, 5% case noise); 8 marks one in 25 and still
# finds a 2x step in 19 of 20 (a level shift of about 3 noise sd between two halves of six runs).
PENALTY = 8.0
MIN_SEGMENT = 2  # runs a new level must hold for: one odd run is noise, not a change
NOISE_FLOOR = {True: 0.01, False: 0.001}  # a rate's noise is never taken below 1%, another field's below 0.001
MIN_SHIFTS = 2  # run-to-run shifts needed before the history's drift replaces the default bound


@dataclass(frozen=True)
class Run:
    """One run as history sees it: where and when it ran, on which commit, and its records."""

    run_id: str
    machine: str
    commit: str
    started: str
    records: list[dict] = field(default_factory=list)


def machine_label(info: dict) -> str:
    """A machine's identity: host, CPU model and CPU count (a kernel or Python upgrade on the same
    machine keeps it, so the history spans the upgrade)."""
    machine = info.get("machine") if isinstance(info.get("machine"), dict) else {}
    host = machine.get("host") or "unknown host"
    return f"{host} ({machine.get('cpu') or 'unknown CPU'}, {machine.get('cpu_count') or '?'} CPUs)"


def as_run(info: dict, records: list[dict]) -> Run:
    info = info if isinstance(info, dict) else {}
    commit = info.get("commit") if isinstance(info.get("commit"), dict) else {}
    short = str(commit.get("id") or "unknown")[:10] + ("+dirty" if commit.get("dirty") else "")
    return Run(str(info.get("run_id") or "?"), machine_label(info), short, str(info.get("started_at") or ""),
               list(records))


def by_machine(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Runs grouped by machine, each group oldest first."""
    groups: dict[str, list[Run]] = {}
    for run in sorted(runs, key=lambda r: (r.started, r.run_id)):
        groups.setdefault(run.machine, []).append(run)
    return groups


def newest_records(runs: Sequence[Run]) -> list[dict]:
    """Each configuration's records from the newest run (by start) that has it, so a report over a
    history shows the latest state once instead of pooling the same case from every run; records
    without a config_hash are all kept, and so is everything of a single run."""
    newest: dict[str, list[dict]] = {}
    kept = []
    for run in sorted(runs, key=lambda r: (r.started, r.run_id)):
        mine: dict[str, list[dict]] = {}
        for record in run.records:
            key = record.get("config_hash")
            if key:
                mine.setdefault(key, []).append(record)
            else:
                kept.append(record)
        newest.update(mine)
    return kept + [record for records in newest.values() for record in records]


@dataclass
class Series:
    """One case's values of one field over a machine's runs, oldest first (NaN where missing)."""

    machine: str
    suite: str
    case_id: str
    config_hash: str
    field: str
    runs: list[Run]
    values: list[float]
    changes: list[int]  # indices into runs where a new level starts


def series(runs: Sequence[Run], column: str) -> list[Series]:
    """Every case's series of ``column`` per machine, with its change points; a case seen in
    fewer than two runs of its machine has no history and is left out. The noise a change must
    exceed is pooled over the suite's cases on that machine (a handful of runs cannot tell one
    series' noise)."""
    found = []
    ratio = FIELDS[column].is_rate
    for machine, group in by_machine(runs).items():
        firsts: dict[str, dict] = {}
        for run in group:
            for record in run.records:
                if record.get("config_hash") and record.get("status") == "ok":
                    firsts.setdefault(record["config_hash"], record)
        suites: dict[str, list[Series]] = {}
        for config_hash, first in firsts.items():
            values = [_value(run, config_hash, column) for run in group]
            if sum(_finite(v) for v in values) < 2:
                continue
            suites.setdefault(str(first.get("suite")), []).append(
                Series(machine, str(first.get("suite")), str(first.get("case_id")), config_hash, column, group,
                       values, []))
        for members in suites.values():
            scale = pooled_noise([m.values for m in members], ratio)
            for member in members:
                member.changes = change_points(member.values, ratio, scale)
            found += members
    return found


def run_changes(members: Sequence[Series]) -> list[int]:
    """Runs where at least half of the cases' series changed: the whole run moved."""
    counts: dict[int, int] = {}
    for member in members:
        for index in member.changes:
            counts[index] = counts.get(index, 0) + 1
    return sorted(i for i, n in counts.items() if n * 2 >= len(members))


def _value(run: Run, config_hash: str, column: str) -> float:
    for record in run.records:
        if record.get("config_hash") == config_hash and record.get("status") == "ok":
            return _number(record.get(column))
    return math.nan


def _scaled(values: Sequence[float], ratio: bool) -> list[tuple[int, float]]:
    """(index, value) of the usable points, a rate on the log scale (timing noise is multiplicative)."""
    return [(i, math.log(v) if ratio else float(v)) for i, v in enumerate(values)
            if _finite(v) and (v > 0 or not ratio)]


def pooled_noise(many: Sequence[Sequence[float]], ratio: bool = True) -> float:
    """A robust standard deviation of one point's noise from the consecutive differences of every
    series (a step adds one large difference per series, which the median ignores), never below
    the field's floor."""
    diffs = np.concatenate([np.diff([v for _, v in _scaled(values, ratio)]) for values in many] or [[]])
    mad = float(np.median(np.abs(diffs - np.median(diffs)))) if len(diffs) else 0.0
    return max(1.4826 * mad / math.sqrt(2), NOISE_FLOOR[ratio])


def change_points(values: Sequence[float], ratio: bool = True, scale: float | None = None) -> list[int]:
    """Indices where a series' level changes beyond its noise (``scale``; by default estimated from
    the series alone); missing values are skipped. Empty when ruptures is not installed."""
    kept = _scaled(values, ratio)
    if len(kept) < 2 * MIN_SEGMENT:
        return []
    try:
        import ruptures
    except ImportError:
        return []
    y = np.array([v for _, v in kept])
    signal = (y - np.median(y)) / (scale or pooled_noise([values], ratio))
    ends = ruptures.Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(signal.reshape(-1, 1)).predict(
        pen=PENALTY * math.log(len(y)))
    return [kept[end][0] for end in ends[:-1]]


def changes_available() -> bool:
    try:
        import ruptures  # noqa: F401
    except ImportError:
        return False
    return True


def run_levels(runs: Sequence[Run], column: str) -> tuple[list[float], list[int]]:
    """The whole-run series of one machine's runs (oldest first): each run's level is the
    cumulative whole-run change (``compare``'s :func:`run_shift`) from the first run, in
    log units; and the runs where at least half of the cases' series changed."""
    levels = [0.0]
    for before, after in zip(runs, runs[1:]):
        levels.append(levels[-1] + _shift(before, after, column))
    return levels, run_changes(series(runs, column))


def _shift(before: Run, after: Run, column: str) -> float:
    """The whole-run log change from one run to the next, as ``compare`` judges it (NaN with no
    case in common)."""
    return run_shift(compare(before.records, after.records), column)[0]


def machine_drift(runs: Sequence[Run], columns: Sequence[str] | None = None) -> Drift:
    """The run-to-run drift of one machine from its history (runs oldest first, same
    configurations): per rate field, the 95% prediction bound of a whole-run shift from the shifts
    between consecutive runs (t quantile times their robust spread about no change: 1.4826 x the
    median absolute shift, so one odd run does not widen it), with shifts across a change point
    left out; the default bound where fewer than
    :data:`MIN_SHIFTS` shifts are known."""
    columns = [c for c in (columns or compared_fields()) if FIELDS[c].is_rate]
    bounds = {}
    for column in columns:
        levels, changes = run_levels(runs, column)
        shifts = [b - a for i, (a, b) in enumerate(zip(levels, levels[1:]), start=1)
                  if i not in changes and not math.isnan(b - a)]
        if len(shifts) < MIN_SHIFTS:
            continue
        spread = 1.4826 * float(np.median(np.abs(shifts)))  # robust: an odd run adds two large shifts
        bounds[column] = -math.expm1(-float(stats.t.ppf(0.975, len(shifts))) * spread)
    if not bounds:
        return DEFAULT_DRIFT
    return Drift(DEFAULT_DRIFT.default, bounds,
                 f"estimated from {len(runs)} earlier runs of these configurations on this machine")


def history_for(after: Run, candidates: Sequence[Run]) -> list[Run]:
    """The runs that tell ``after``'s machine drift: same machine, started before it, sharing at
    least one configuration with it; oldest first."""
    hashes = {r.get("config_hash") for r in after.records if r.get("config_hash")}
    return [run for run in sorted(candidates, key=lambda r: (r.started, r.run_id))
            if run.machine == after.machine and run.run_id != after.run_id and run.started < after.started
            and hashes & {r.get("config_hash") for r in run.records}]


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
