"""Per-setting verdicts: which normalizer wins, by how much, and whether that beats seed noise.

A *setting* is one device plus the values of the grid axes every normalizer shares (batch size,
learning rate, epochs...). The *candidates* at a setting are the normalizers, each with its own
axis values when the grid varies them (``batch (momentum=0.99)``). A winner is called clear only
when its 95% confidence interval over seeds (Student's t) does not overlap the runner-up's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from report.frame import grid_axes, measured


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int


def estimate(values) -> Estimate:
    """Mean with a two-sided 95% t interval; with one value the interval is unknown (NaN)."""
    values = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = sum(values) / n
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def judge(best: Estimate, runner_up: Estimate) -> str:
    """'clear', 'within noise', or why neither can be said."""
    if runner_up.n == 0:
        return "only candidate"
    if best.n < 2 or runner_up.n < 2:
        return "one seed: no interval"
    return "clear" if best.low > runner_up.high else "within noise"


def suite_verdicts(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """One row per setting: best by inference accuracy and best by training throughput."""
    data = measured(frame)
    if data.empty:
        return [], []
    shared, specific = _axes(data)
    data = data.assign(candidate=data.apply(lambda row: _label(row, specific), axis=1))
    keys = ["device", *shared]
    header = [*keys, "best accuracy", "margin", "verdict", "best train samples/s", "speed-up", "verdict "]
    rows = []
    for key, group in data.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        accuracy = _ranked(group, "test_accuracy")
        speed = _ranked(group, "train_samples_per_sec")
        rows.append([*(_fmt_key(k) for k in key), *_accuracy_cells(accuracy), *_speed_cells(speed)])
    return header, rows


def _ranked(group: pd.DataFrame, column: str) -> list[tuple[str, Estimate]]:
    estimates = [(label, estimate(sub[column])) for label, sub in group.groupby("candidate")]
    estimates = [(label, e) for label, e in estimates if e.n]
    return sorted(estimates, key=lambda item: item[1].mean, reverse=True)


def _accuracy_cells(ranked) -> list[str]:
    return _winner_cells(ranked, lambda v: f"{v:.3f}", lambda b, s, name: f"+{b - s:.3f} over {name}")


def _speed_cells(ranked) -> list[str]:
    return _winner_cells(ranked, lambda v: f"{v:,.0f}", lambda b, s, name: f"{b / s:.2f}x {name}")


def _winner_cells(ranked, show, margin) -> list[str]:
    """[winner (value), margin over the runner-up, verdict] for one metric at one setting."""
    if not ranked:
        return ["", "", ""]
    (best, b), rest = ranked[0], ranked[1:]
    if not rest:
        return [f"{best} ({show(b.mean)})", "", judge(b, Estimate(math.nan, math.nan, math.nan, 0))]
    second, s = rest[0]
    return [f"{best} ({show(b.mean)})", margin(b.mean, s.mean, second), judge(b, s)]


def _axes(data: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Grid axes shared by every record vs those only some normalizers have (listed as not applicable)."""
    specific = {a for skipped in data["not_applicable"] if isinstance(skipped, list) for a in skipped}
    names = grid_axes(data)
    return [a for a in names if a not in specific], [a for a in names if a in specific]


def _label(row, specific: list[str]) -> str:
    parts = [f"{axis}={_fmt_key(row[axis])}" for axis in specific
             if row[axis] is not None and not (isinstance(row[axis], float) and math.isnan(row[axis]))]
    return f"{row['normalizer']} ({', '.join(parts)})" if parts else str(row["normalizer"])


def _fmt_key(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else format(value, "g")
    return str(value)
