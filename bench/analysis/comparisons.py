"""The comparisons a verdict can make at one setting, each a pure function of that setting's records.

A *setting* is one device plus the values of the grid axes every candidate shares; its *candidates*
are the normalizers (or the values of one grid axis), labelled in the frame's ``candidate`` column.
Each function returns :class:`Verdict` objects; :mod:`bench.analysis.headlines` registers them as
headline kinds and :mod:`bench.analysis.verdicts` runs them over every setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from bench.analysis.paired_timing import paired_log_speed
from bench.analysis.stats import DECIDED, Decision, Difference, decide, difference, estimate_text, log_ratio
from bench.results.fields import FIELDS, label

Rounds = dict  # (case_id, phase) -> seconds of each timed round


@dataclass(frozen=True)
class Verdict:
    """One comparison at one setting: ``best`` against ``runner_up`` (the runner-up, the baseline or
    a second field). ``kind`` is the headline kind that made it; ``scale`` says whether ``diff`` is
    a difference of values ("difference") or of their logs ("ratio")."""

    setting: dict
    kind: str
    best: str
    best_value: float
    runner_up: str | None
    diff: Difference | None  # difference: best - runner-up; ratio: log(best / runner-up)
    decision: Decision
    margin: float
    scale: str = "difference"

    @property
    def decided(self) -> bool:
        return self.decision.outcome in DECIDED

    def verdict_text(self) -> str:
        if self.runner_up is None:
            return "only candidate"
        margin = f"±{self.margin * 100:g} points" if self.scale == "difference" else f"±{self.margin:.0%}"
        text = self.decision.text(margin)
        if self.diff is not None and self.diff.looks > 1 and self.diff.n:  # a budgeted run: seeds vary
            text += f" ({self.diff.n} {self.decision.samples})"
        return text

    def effect_text(self) -> str:
        """The lead over the runner-up with its 95% interval."""
        if self.runner_up is None or self.diff is None:
            return ""
        joiner = " over " if self.scale == "difference" else " "
        return f"{estimate_text(self.diff, self.scale)}{joiner}{self.runner_up}"

    def best_text(self) -> str:
        value = f"{self.best_value:.3f}" if self.scale == "difference" else f"{self.best_value:,.0f}"
        return f"{self.best} ({value})"


CHANCE_SLACK = 0.02  # within 2 points of always guessing the most frequent class counts as chance


def all_failed(group: pd.DataFrame, field: str) -> bool:
    """Whether every case at this setting failed to learn: diverged (status nan), or its ``field``
    within CHANCE_SLACK of the test set's chance accuracy (records from before chance_accuracy was
    recorded are judged by divergence alone). Such a setting has an answer ("all failed here"),
    never a tie."""
    if group.empty:
        return False
    diverged = group["status"] == "nan"
    at_chance = group[field] <= group["chance_accuracy"] + CHANCE_SLACK  # NaN compares False
    return bool((diverged | at_chance).all())


def _judged(diff: Difference, margin: float, failed: bool) -> Decision:
    return Decision("all failed") if failed else decide(diff, margin)


def best_against_runner_up(kind: str, setting: dict, group: pd.DataFrame, options: dict,
                           rounds: Rounds) -> list[Verdict]:
    """The best candidate's ``accuracy_field`` against the runner-up's, seed-paired; "best" follows
    the field's direction in the field table (higher or lower is better)."""
    field, margin = options["accuracy_field"], options["accuracy"]
    sign = -1 if FIELDS[field].better == "lower" else 1
    by_candidate = {name: _by_seed(sub, field) for name, sub in group.groupby("candidate")}
    by_candidate = {name: seeds for name, seeds in by_candidate.items() if seeds}
    if not by_candidate:
        return []
    ranked = sorted(by_candidate, key=lambda name: sign * _mean(by_candidate[name]), reverse=True)
    best = ranked[0]
    if len(ranked) == 1:
        return [Verdict(setting, kind, best, _mean(by_candidate[best]), None, None, Decision("winner"), margin)]
    diff = difference(by_candidate[best], by_candidate[ranked[1]], options.get("looks", 1))
    return [Verdict(setting, kind, best, _mean(by_candidate[best]), ranked[1], diff,
                    _judged(diff, margin, all_failed(group, field)), margin)]


def against_baseline(kind: str, setting: dict, group: pd.DataFrame, options: dict,
                     rounds: Rounds) -> list[Verdict]:
    """Every other candidate's ``accuracy_field`` minus the baseline's (a label like ``batch`` also
    matches ``batch (momentum=0.9)``; ``options["baseline"]`` is the candidate label, already
    ``axis=value`` where an axis's values compete), seed-paired."""
    field = options["accuracy_field"]
    by_candidate = {name: _by_seed(sub, field) for name, sub in group.groupby("candidate")}
    return _each_against_baseline(kind, setting, by_candidate, options["baseline"], options["accuracy"],
                                  "difference", all_failed(group, field), options.get("looks", 1))


def _each_against_baseline(kind: str, setting: dict, by_candidate: dict[str, dict[int, float]], baseline: str,
                           margin: float, scale: str, failed: bool = False, looks: int = 1) -> list[Verdict]:
    """Each candidate's seed values against the baseline candidate's, paired by seed; on the
    "ratio" scale the values are logs and the margin a relative one."""
    base = [name for name in by_candidate if baseline and (name == baseline or name.startswith(f"{baseline} ("))]
    if len(base) != 1 or not by_candidate[base[0]]:
        return []
    tolerance = math.log1p(margin) if scale == "ratio" else margin
    found = []
    for name, seeds in by_candidate.items():
        if name == base[0] or not seeds:
            continue
        diff = difference(seeds, by_candidate[base[0]], looks)
        value = math.exp(_mean(seeds)) if scale == "ratio" else _mean(seeds)
        found.append(Verdict(setting, kind, name, value, base[0], diff, _judged(diff, tolerance, failed), margin,
                             scale))
    return found


def against_field(kind: str, setting: dict, group: pd.DataFrame, options: dict, rounds: Rounds) -> list[Verdict]:
    """Per candidate, ``accuracy_field`` minus ``versus_field`` of the same cases (e.g. PreciseBN's
    accuracy minus the moving averages'), paired by seed."""
    field, versus, margin = options["accuracy_field"], options["versus_field"], options["accuracy"]
    if not versus:
        return []
    failed = all_failed(group, field) and all_failed(group, versus)  # one of two at chance is an answer
    found = []
    for name, sub in group.groupby("candidate"):
        mine, theirs = _by_seed(sub, field), _by_seed(sub, versus)
        if not mine or not theirs:
            continue
        diff = difference(mine, theirs, options.get("looks", 1))
        found.append(Verdict(setting, kind, f"{name}: {label(field)}", _mean(mine), label(versus), diff,
                             _judged(diff, margin, failed), margin))
    return found


def speed_against_baseline(kind: str, setting: dict, group: pd.DataFrame, options: dict,
                           rounds: Rounds) -> list[Verdict]:
    """Every other candidate's training throughput over the baseline's, as a ratio on the log scale:
    what a candidate costs in speed, e.g. synchronized BatchNorm against per-device BatchNorm. Paired
    round by round where the two were timed interleaved (bench.analysis.paired_timing), else paired
    by seed (each seed timed apart, so the pairs carry the machine's drift between them)."""
    by_candidate = {name: {s: math.log(v) for s, v in _by_seed(sub, "train_samples_per_sec").items() if v > 0}
                    for name, sub in group.groupby("candidate")}
    found = _each_against_baseline(kind, setting, by_candidate, options["baseline"], options["throughput"], "ratio",
                                   looks=options.get("looks", 1))
    for i, verdict in enumerate(found):
        paired = paired_log_speed(group, verdict.best, verdict.runner_up, rounds, looks=options.get("looks", 1))
        if paired is not None:
            diff, samples = paired
            found[i] = replace(verdict, diff=diff, decision=decide(diff, math.log1p(verdict.margin), samples))
    return found


def fastest_against_runner_up(kind: str, setting: dict, group: pd.DataFrame, options: dict,
                              rounds: Rounds) -> list[Verdict]:
    """Speed on the log scale: where the two fastest were timed interleaved, their paired rounds
    (bench.analysis.paired_timing); else, with timing rounds, Welch over every round of every seed,
    unless the seed-paired difference of the records' log throughputs has the wider interval (rounds
    of one process cannot see a slower moment of the machine; separate seeds, timed apart, do);
    without rounds, the seed-paired difference alone."""
    margin, looks = options["throughput"], options.get("looks", 1)
    speeds: dict[str, list[float]] = {}
    by_seed: dict[str, dict[int, float]] = {}
    for name, sub in group.groupby("candidate"):
        samples = [row["batch_size"] / t for _, row in sub.iterrows()
                   for t in rounds.get((row["case_id"], "train"), []) if t > 0]
        if samples:
            speeds[name] = samples
        seeds = {s: math.log(v) for s, v in _by_seed(sub, "train_samples_per_sec").items() if v > 0}
        if seeds:
            by_seed[name] = seeds
    speeds = speeds if speeds and len(speeds) == len(by_seed) else {}
    samples = "rounds"
    if speeds:
        typical = {name: math.exp(sum(map(math.log, values)) / len(values)) for name, values in speeds.items()}
        ranked = sorted(typical, key=typical.get, reverse=True)
        diff = log_ratio(speeds[ranked[0]], speeds[ranked[1]], looks) if len(ranked) > 1 else None
        if diff is not None:  # rounds miss the noise between processes and moments; seeds see it
            across = difference(by_seed[ranked[0]], by_seed[ranked[1]], looks)
            if across.n >= 2 and across.high95 - across.low95 > diff.high95 - diff.low95:
                diff, samples = across, "seeds"
    elif by_seed:
        typical = {name: math.exp(_mean(seeds)) for name, seeds in by_seed.items()}
        ranked = sorted(typical, key=typical.get, reverse=True)
        diff = difference(by_seed[ranked[0]], by_seed[ranked[1]], looks) if len(ranked) > 1 else None
    else:
        return []
    best = ranked[0]
    if diff is None:
        return [Verdict(setting, kind, best, typical[best], None, None, Decision("winner"), margin, "ratio")]
    samples = samples if speeds else "seeds"
    paired = paired_log_speed(group, best, ranked[1], rounds, looks=looks)
    if paired is not None:
        diff, samples = paired
    return [Verdict(setting, kind, best, typical[best], ranked[1], diff,
                    decide(diff, math.log1p(margin), samples), margin, "ratio")]


def _by_seed(group: pd.DataFrame, column: str) -> dict[int, float]:
    """Seed -> value (the mean if a seed appears twice, e.g. merged runs); NaN values dropped."""
    values = group[["seed", column]].dropna()
    return {int(seed): float(value) for seed, value in values.groupby("seed")[column].mean().items()}


def _mean(values: dict) -> float:
    return sum(values.values()) / len(values)
