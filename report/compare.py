"""Compare two runs case by case, like ``pytest-benchmark compare``: deltas and regression rules.

Cases are matched by ``case_id`` (suite, normalizer, settings, seed and device). A rule such as
``throughput:5%`` fails when a matched case's training or inference throughput drops by more than
5%; ``accuracy:2%`` fails when inference-mode test accuracy drops by more than 2 percentage points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from bench.errors import NormbenchError

METRICS = {
    "throughput": ("train_samples_per_sec", "infer_samples_per_sec"),
    "train_throughput": ("train_samples_per_sec",),
    "infer_throughput": ("infer_samples_per_sec",),
    "accuracy": ("test_accuracy",),
}
RATE_COLUMNS = ("train_samples_per_sec", "infer_samples_per_sec")


@dataclass(frozen=True)
class Rule:
    metric: str
    percent: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.percent:g}%"


def parse_rule(text: str) -> Rule:
    """``METRIC:N%`` with METRIC one of METRICS; a bad rule is a one-line NormbenchError."""
    match = re.fullmatch(r"([a-z_]+):([0-9]*\.?[0-9]+)%", text.strip())
    if not match or match.group(1) not in METRICS:
        raise NormbenchError(f"--fail-on {text!r}: expected METRIC:N% with METRIC one of "
                             f"{', '.join(METRICS)} (e.g. throughput:5%)")
    return Rule(match.group(1), float(match.group(2)))


def compare(before: list[dict], after: list[dict]) -> pd.DataFrame:
    """One row per case present in both runs, with each metric before, after and its change.

    Throughput changes are relative (after / before - 1); accuracy changes are absolute.
    """
    a = {r["case_id"]: r for r in before}
    b = {r["case_id"]: r for r in after}
    rows = []
    for case_id in [c for c in a if c in b]:
        row = {"case_id": case_id, "status_before": a[case_id].get("status"),
               "status_after": b[case_id].get("status")}
        for column in ("test_accuracy", *RATE_COLUMNS):
            old, new = _number(a[case_id].get(column)), _number(b[case_id].get(column))
            row[f"{column}_before"], row[f"{column}_after"] = old, new
            if column in RATE_COLUMNS:
                row[f"{column}_change"] = new / old - 1 if old and not math.isnan(old + new) else math.nan
            else:
                row[f"{column}_change"] = new - old
        rows.append(row)
    return pd.DataFrame(rows)


def regressions(table: pd.DataFrame, rules: list[Rule]) -> list[str]:
    """One line per case and column whose drop exceeds a rule."""
    found = []
    for rule in rules:
        for column in METRICS[rule.metric]:
            changes = table.get(f"{column}_change", pd.Series(dtype=float))
            limit = rule.percent / 100
            for case_id, change in zip(table.get("case_id", []), changes):
                if not math.isnan(change) and change < -limit:
                    shown = f"{change:+.1%}" if column in RATE_COLUMNS else f"{change * 100:+.1f} points"
                    found.append(f"{case_id}: {column} {shown} (rule {rule})")
    return found


def unmatched(before: list[dict], after: list[dict]) -> tuple[int, int]:
    a, b = {r["case_id"] for r in before}, {r["case_id"] for r in after}
    return len(a - b), len(b - a)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
