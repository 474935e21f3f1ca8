"""The sequential design behind ``normbench run --budget``: when to look at a comparison again, and
why re-judging after every round still gives honest verdicts.

A comparison is looked at when its seeds reach one of a fixed list of counts, the suite's own seed
count doubled up to the seed cap (3, 6, 12, 24, 48 for a suite of 3 seeds and the default cap).
With ``K`` looks every interval is taken at alpha / K (Bonferroni over the looks, the simplest
group-sequential boundary: Jennison & Turnbull, *Group Sequential Methods*, 2000, ch. 2; it needs
neither a known variance nor many seeds, since each look is an ordinary t-interval and the union
bound holds whatever the looks' correlation). So the chance that two identical candidates are ever
called "clear", over all looks, is at most 5%, and likewise for calling a real difference beyond the
margin "equivalent". :func:`simulate` checks the rates (tests/test_sequential.py;
docs/statistics.md states them).

A look stops a comparison when it is a tie, or a winner whose lead is at least the margin. A winner
whose estimate lies inside the margin goes on (until the cap): its difference may be real but
negligible, and more seeds can show it equivalent. A comparison also stops when the cap is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.analysis.stats import MAX_SEEDS, Decision, Difference, decide, difference


def looks(first: int, cap: int = MAX_SEEDS) -> tuple[int, ...]:
    """The seed counts at which a comparison is judged: ``first`` doubled until ``cap`` (the cap
    itself the last look)."""
    first = max(int(first), 2)
    counts = [first]
    while counts[-1] < cap:
        counts.append(min(counts[-1] * 2, cap))
    return tuple(counts)


def next_look(n: int, schedule: tuple[int, ...]) -> int | None:
    """The first look after ``n`` seeds, or None at or past the last."""
    return next((count for count in schedule if count > n), None)


def settled(decision: Decision, diff: Difference | None, margin: float) -> bool:
    """Whether a comparison needs no more seeds: a tie, "all failed", a single candidate, or a
    winner whose lead is at least the margin."""
    if decision.outcome in ("tie", "all failed") or diff is None:
        return True
    return decision.outcome == "winner" and abs(diff.mean) >= margin


@dataclass(frozen=True)
class Rates:
    """How simulated sequential runs ended: the fraction ``clear``, ``equivalent`` and ``open``,
    and the mean seeds they used."""

    clear: float
    equivalent: float
    open: float
    mean_seeds: float
    runs: int

    def upper95(self, fraction: float) -> float:
        """One-sided 95% upper bound of a fraction of ``runs`` (Clopper-Pearson)."""
        from scipy import stats

        hits = round(fraction * self.runs)
        return 1.0 if hits >= self.runs else float(stats.beta.ppf(0.95, hits + 1, self.runs - hits))


def simulate(effect: float, sd: float, margin: float, runs: int = 2000, first: int = 3, cap: int = MAX_SEEDS,
             seed: int = 0) -> Rates:
    """``runs`` sequential comparisons of paired differences drawn from N(effect, sd), judged at every
    look with the same :func:`~bench.analysis.stats.decide` the report uses, stopped as the run
    stops them (:func:`settled`, or the cap)."""
    schedule = looks(first, cap)
    rng = np.random.default_rng(seed)
    draws = rng.normal(effect, sd, size=(runs, schedule[-1]))
    ends = {"clear": 0, "equivalent": 0, "open": 0}
    used = 0
    for row in draws:
        outcome, n = "open", schedule[-1]
        for n in schedule:
            diff = difference({i: float(v) for i, v in enumerate(row[:n])}, {i: 0.0 for i in range(n)},
                              looks=len(schedule))
            decision = decide(diff, margin)
            if settled(decision, diff, margin) or n == schedule[-1]:
                outcome = {"winner": "clear", "tie": "equivalent"}.get(decision.outcome, "open")
                break
        ends[outcome] += 1
        used += n
    return Rates(ends["clear"] / runs, ends["equivalent"] / runs, ends["open"] / runs, used / runs, runs)


def why_open(diff: Difference | None, needed: int | None, cap: int, budget_spent: bool) -> str:
    """Why a comparison is still open after a budgeted run: the seed cap, a difference smaller than
    any affordable seed count can show, or the budget."""
    n = diff.n if diff is not None and not math.isnan(diff.mean) else 0
    if needed is None or needed > cap:
        return f"differs by less than {cap} seeds can show"
    if n >= cap:
        return f"seed cap ({cap}) reached"
    return "budget spent" if budget_spent else f"about {needed} seeds would settle it"
