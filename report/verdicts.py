"""Per-setting verdicts: which normalizer wins, by how much, and whether that is decided.

A *setting* is one device plus the values of the grid axes every normalizer shares (batch size,
learning rate, epochs...). The *candidates* at a setting are the normalizers, each with its own
axis values when the grid varies them (``batch (momentum=0.99)``). The best candidate is compared
with the runner-up (see :mod:`report.statistics`): accuracy by the seed-paired difference,
throughput by the ratio of training speeds over every timed round of every seed (the records'
medians per seed when no rounds were kept). Each verdict is "clear" (a winner beyond noise),
"equivalent" (a tie within the suite's ``equivalence`` margin), or open with the seeds that would
settle it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench import catalog
from report.frame import grid_axes, measured
from report.statistics import Decision, Difference, decide, difference, log_ratio
from report.tables import ACCURACY_LABELS

DEFAULTS = {name: param.default for name, param in catalog.VERDICTS.items()}
Rounds = dict  # (case_id, phase) -> seconds of each timed round


@dataclass(frozen=True)
class Verdict:
    """One metric at one setting: the best candidate against the runner-up."""

    setting: dict
    metric: str  # "accuracy" or "throughput"
    best: str
    best_value: float
    runner_up: str | None
    diff: Difference | None  # accuracy: best - runner-up; throughput: log(best / runner-up)
    decision: Decision
    margin: float

    @property
    def decided(self) -> bool:
        return self.decision.outcome in ("winner", "tie")

    def verdict_text(self) -> str:
        if self.runner_up is None:
            return "only candidate"
        margin = f"±{self.margin * 100:g} points" if self.metric != "throughput" else f"±{self.margin:.0%}"
        return self.decision.text(margin)

    def effect_text(self) -> str:
        """The lead over the runner-up with its 95% interval."""
        if self.runner_up is None or self.diff is None:
            return ""
        d = self.diff
        if self.metric != "throughput":
            interval = "" if math.isnan(d.low95) else f" [{d.low95:+.3f}, {d.high95:+.3f}]"
            return f"{d.mean:+.3f}{interval} over {self.runner_up}"
        interval = "" if math.isnan(d.low95) else f" [{math.exp(d.low95):.2f}, {math.exp(d.high95):.2f}]"
        return f"{math.exp(d.mean):.2f}x{interval} {self.runner_up}"

    def best_text(self) -> str:
        value = f"{self.best_value:.3f}" if self.metric != "throughput" else f"{self.best_value:,.0f}"
        return f"{self.best} ({value})"


def setting_verdicts(frame: pd.DataFrame, rounds: Rounds | None = None,
                     options: dict | None = None) -> list[Verdict]:
    """Accuracy and throughput verdicts of every setting of one suite's records; ``options`` is the
    suite's ``verdicts`` section (what competes, the margins of a tie)."""
    margins = {**DEFAULTS, **(options or {})}
    data = measured(frame)
    if data.empty:
        return []
    shared, specific = _axes(data)
    axis = margins["candidates"]
    if axis != "normalizer" and axis in shared:  # the values of one axis compete, per normalizer
        data = data.assign(candidate=data[axis].map(lambda v: f"{axis}={_fmt_key(v)}"))
        keys = ["device", "normalizer", *(a for a in shared if a != axis)]
    else:
        data = data.assign(candidate=data.apply(lambda row: _label(row, specific), axis=1))
        keys = ["device", *shared]
    verdicts = []
    baseline = margins.get("baseline") or ""
    if baseline and axis != "normalizer":
        baseline = f"{axis}={baseline}"
    for key, group in data.groupby(keys, dropna=False, sort=True):
        setting = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        verdicts.append(_accuracy_verdict(setting, group, margins["accuracy"], margins["accuracy_field"]))
        verdicts.append(_throughput_verdict(setting, group, rounds or {}, margins["throughput"]))
        if baseline:
            verdicts += _against_baseline(setting, group, baseline, margins["accuracy"], margins["accuracy_field"])
        if margins.get("versus_field"):
            verdicts += _against_field(setting, group, margins["accuracy_field"], margins["versus_field"],
                                       margins["accuracy"])
    return [v for v in verdicts if v is not None]


HEADLINE_METRICS = {"accuracy": "accuracy", "baseline": "accuracy vs baseline",
                    "versus_field": "accuracy vs field", "throughput": "throughput"}


def headline(verdicts: list[Verdict], options: dict | None = None) -> list[Verdict]:
    """The verdicts that answer the suite's question (``verdicts.headline``); a lone candidate's
    "verdict" compares nothing and is left out."""
    metric = HEADLINE_METRICS[{**DEFAULTS, **(options or {})}["headline"]]
    return [v for v in verdicts if v.metric == metric and v.runner_up is not None]


def _against_field(setting: dict, group: pd.DataFrame, field: str, versus: str, margin: float) -> list[Verdict]:
    """Per candidate, ``field`` minus ``versus`` of the same cases (e.g. PreciseBN's accuracy minus
    the moving averages'), paired by seed: metric ``accuracy vs field``."""
    found = []
    for label, sub in group.groupby("candidate"):
        mine, theirs = _by_seed(sub, field), _by_seed(sub, versus)
        if not mine or not theirs:
            continue
        diff = difference(mine, theirs)
        found.append(Verdict(setting, "accuracy vs field", f"{label}: {ACCURACY_LABELS.get(field, field)}",
                             _mean(mine), ACCURACY_LABELS.get(versus, versus), diff, decide(diff, margin), margin))
    return found


def _against_baseline(setting: dict, group: pd.DataFrame, baseline: str, margin: float,
                      field: str = "test_accuracy") -> list[Verdict]:
    """Every other candidate's accuracy minus the baseline's (a label like ``batch`` also matches
    ``batch (momentum=0.9)``), seed-paired: metric ``accuracy vs baseline``."""
    by_candidate = {label: _by_seed(sub, field) for label, sub in group.groupby("candidate")}
    base = [label for label in by_candidate if label == baseline or label.startswith(f"{baseline} (")]
    if len(base) != 1 or not by_candidate[base[0]]:
        return []
    found = []
    for label, seeds in by_candidate.items():
        if label == base[0] or not seeds:
            continue
        diff = difference(seeds, by_candidate[base[0]])
        found.append(Verdict(setting, "accuracy vs baseline", label, _mean(seeds), base[0], diff,
                             decide(diff, margin), margin))
    return found


def suite_verdicts(frame: pd.DataFrame, rounds: Rounds | None = None,
                   options: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """The verdict table: one row per setting, accuracy then training throughput."""
    verdicts = setting_verdicts(frame, rounds, options)
    if not verdicts:
        return [], []
    keys = list(verdicts[0].setting)
    header = [*keys, "best accuracy", "lead [95% interval]", "verdict", "fastest training (samples/s)",
              "speed-up [95% interval]", "verdict "]
    rows: dict[tuple, list[str]] = {}
    for v in (v for v in verdicts if v.metric in ("accuracy", "throughput")):
        row = rows.setdefault(tuple(v.setting.values()), [_fmt_key(k) for k in v.setting.values()] + [""] * 6)
        offset = len(keys) + (0 if v.metric == "accuracy" else 3)
        row[offset:offset + 3] = [v.best_text(), v.effect_text(), v.verdict_text()]
    return header, list(rows.values())


def _accuracy_verdict(setting: dict, group: pd.DataFrame, margin: float,
                      field: str = "test_accuracy") -> Verdict | None:
    by_candidate = {label: _by_seed(sub, field) for label, sub in group.groupby("candidate")}
    by_candidate = {label: seeds for label, seeds in by_candidate.items() if seeds}
    if not by_candidate:
        return None
    ranked = sorted(by_candidate, key=lambda label: _mean(by_candidate[label]), reverse=True)
    best = ranked[0]
    if len(ranked) == 1:
        return Verdict(setting, "accuracy", best, _mean(by_candidate[best]), None, None, Decision("winner"),
                       margin)
    diff = difference(by_candidate[best], by_candidate[ranked[1]])
    return Verdict(setting, "accuracy", best, _mean(by_candidate[best]), ranked[1], diff,
                   decide(diff, margin), margin)


def _throughput_verdict(setting: dict, group: pd.DataFrame, rounds: Rounds, margin: float) -> Verdict | None:
    """Speed on the log scale: with timing rounds, Welch over every round of every seed, unless the
    seed-paired difference of the records' log throughputs has the wider interval (rounds of one
    process cannot see a slower moment of the machine; separate seeds, timed apart, do); without
    rounds, the seed-paired difference alone."""
    speeds: dict[str, list[float]] = {}
    by_seed: dict[str, dict[int, float]] = {}
    for label, sub in group.groupby("candidate"):
        samples = [row["batch_size"] / t for _, row in sub.iterrows()
                   for t in rounds.get((row["case_id"], "train"), []) if t > 0]
        if samples:
            speeds[label] = samples
        seeds = {s: math.log(v) for s, v in _by_seed(sub, "train_samples_per_sec").items() if v > 0}
        if seeds:
            by_seed[label] = seeds
    speeds = speeds if speeds and len(speeds) == len(by_seed) else {}
    samples = "rounds"
    if speeds:
        typical = {label: math.exp(sum(map(math.log, values)) / len(values)) for label, values in speeds.items()}
        ranked = sorted(typical, key=typical.get, reverse=True)
        diff = log_ratio(speeds[ranked[0]], speeds[ranked[1]]) if len(ranked) > 1 else None
        if diff is not None:  # rounds miss the noise between processes and moments; seeds see it
            across = difference(by_seed[ranked[0]], by_seed[ranked[1]])
            if across.n >= 2 and across.high95 - across.low95 > diff.high95 - diff.low95:
                diff, samples = across, "seeds"
    elif by_seed:
        typical = {label: math.exp(_mean(seeds)) for label, seeds in by_seed.items()}
        ranked = sorted(typical, key=typical.get, reverse=True)
        diff = difference(by_seed[ranked[0]], by_seed[ranked[1]]) if len(ranked) > 1 else None
    else:
        return None
    best = ranked[0]
    if diff is None:
        return Verdict(setting, "throughput", best, typical[best], None, None, Decision("winner"), margin)
    samples = samples if speeds else "seeds"
    return Verdict(setting, "throughput", best, typical[best], ranked[1], diff,
                   decide(diff, math.log1p(margin), samples), margin)


def _by_seed(group: pd.DataFrame, column: str) -> dict[int, float]:
    """Seed -> value (the mean if a seed appears twice, e.g. merged runs); NaN values dropped."""
    values = group[["seed", column]].dropna()
    return {int(seed): float(value) for seed, value in values.groupby("seed")[column].mean().items()}


def _mean(values: dict) -> float:
    return sum(values.values()) / len(values)


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
