"""The statistics every verdict uses: intervals for a difference, a winner or a tie, and how many
seeds would settle an open question.

A difference between two candidates is *decided* when either its 95% interval excludes zero (a
winner) or its 90% interval lies inside the suite's equivalence margin (a tie, the two one-sided
tests of TOST at 5% each). Seeds are paired when both candidates ran the same seeds: the same seed
means the same data order and initial weights where the model allows, so the paired difference
removes the seed's own effect.

A run that adds seeds until its comparisons are decided looks at each comparison up to ``looks``
times (:mod:`bench.analysis.sequential`); its intervals are then Bonferroni-widened over the looks
(alpha / looks each), so stopping on the first decided look keeps the error rates.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

MAX_SEEDS = 48  # the default seed cap: beyond it a setting is "not settled by seeds" (3 doubled four times)
MAX_ROUNDS = 5000
DECIDED = ("winner", "tie", "all failed")  # outcomes that answer the question (all failed is an answer too)


@dataclass(frozen=True)
class Difference:
    """``mean`` of a - b with its 95% (winner) and 90% (equivalence) intervals over ``n`` samples;
    with ``looks`` > 1 the intervals are (1 - 0.05/looks) and (1 - 0.10/looks) ones."""

    mean: float
    low95: float
    high95: float
    low90: float
    high90: float
    n: int
    sd: float
    paired: bool
    looks: int = 1


@dataclass(frozen=True)
class Decision:
    outcome: str  # "winner", "tie", "all failed", "open" or "one sample"
    needed: int | None = None  # for "open": samples per candidate that would settle it
    samples: str = "seeds"  # what a sample is: seeds, or timed rounds
    why: str = ""  # for "open" after a budgeted run: why it stayed open (bench.analysis.sequential.why_open)

    def text(self, margin: str) -> str:
        if self.outcome == "winner":
            return "clear"
        if self.outcome == "tie":
            return f"equivalent (within {margin})"
        if self.outcome == "all failed":
            return "all failed here (every case diverged or sits at chance)"
        if self.outcome == "one sample":
            return f"one {self.samples[:-1]}: no interval"
        if self.why:
            return f"open: {self.why}"
        if self.needed is None:
            return f"open: more than {MAX_SEEDS if self.samples == 'seeds' else MAX_ROUNDS} {self.samples} needed"
        return f"open: about {self.needed} {self.samples} would settle it"


def estimate_text(d: Difference, scale: str = "difference") -> str:
    """``+0.031 [+0.012, +0.050]`` for a difference, ``1.18x [1.02, 1.37]`` for a log ratio; the
    interval is left out when there is none."""
    if scale == "ratio":
        interval = "" if math.isnan(d.low95) else f" [{math.exp(d.low95):.2f}, {math.exp(d.high95):.2f}]"
        return f"{math.exp(d.mean):.2f}x{interval}"
    interval = "" if math.isnan(d.low95) else f" [{d.low95:+.3f}, {d.high95:+.3f}]"
    return f"{d.mean:+.3f}{interval}"


def difference(a: Mapping[int, float], b: Mapping[int, float], looks: int = 1) -> Difference:
    """a - b over seeds: paired on the seeds both have when there are at least two, else Welch's
    unpaired interval over all of each; intervals widened over ``looks`` sequential looks."""
    a = {k: float(v) for k, v in a.items() if _finite(v)}
    b = {k: float(v) for k, v in b.items() if _finite(v)}
    common = sorted(set(a) & set(b))
    if len(common) >= 2:
        diffs = np.array([a[k] - b[k] for k in common])
        return _one_sample(diffs, paired=True, looks=looks)
    return welch(list(a.values()), list(b.values()), looks)


def quantiles(looks: int = 1) -> tuple[float, float]:
    """The t quantiles of the winner (two-sided 95%) and tie (one-sided 5%, TOST) intervals at one
    of ``looks`` looks: alpha split evenly over the looks (Bonferroni)."""
    return 1 - 0.025 / looks, 1 - 0.05 / looks


def welch(a: Sequence[float], b: Sequence[float], looks: int = 1) -> Difference:
    """mean(a) - mean(b) with Welch-Satterthwaite degrees of freedom."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return Difference(math.nan, math.nan, math.nan, math.nan, math.nan, 0, math.nan, False, looks)
    mean = float(a.mean() - b.mean())
    n = min(len(a), len(b))
    if len(a) < 2 or len(b) < 2:
        return Difference(mean, math.nan, math.nan, math.nan, math.nan, n, math.nan, False, looks)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(mean, mean, mean, mean, mean, n, 0.0, False, looks)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    q95, q90 = quantiles(looks)
    h95, h90 = stats.t.ppf(q95, df) * se, stats.t.ppf(q90, df) * se
    # sd of one difference, for the seeds-needed estimate: se * sqrt(n) as if paired
    return Difference(mean, mean - h95, mean + h95, mean - h90, mean + h90, n, se * math.sqrt(n), False, looks)


def _one_sample(diffs: np.ndarray, paired: bool, looks: int = 1) -> Difference:
    n, mean = len(diffs), float(diffs.mean())
    sd = float(diffs.std(ddof=1))
    q95, q90 = quantiles(looks)
    h95, h90 = half_width(sd, n, q95), half_width(sd, n, q90)
    return Difference(mean, mean - h95, mean + h95, mean - h90, mean + h90, n, sd, paired, looks)


def half_width(sd: float, n: int, quantile: float) -> float:
    """Half the width of a t-interval at ``quantile`` over ``n`` samples of spread ``sd``."""
    return float(_t(quantile, n - 1) * sd / math.sqrt(n)) if sd > 0 else 0.0


@functools.lru_cache(maxsize=4096)
def _t(quantile: float, df: int) -> float:
    """Student's t quantile, cached: the sequential simulation asks for the same few thousands of times."""
    return float(stats.t.ppf(quantile, df))


def decide(diff: Difference, margin: float, samples: str = "seeds") -> Decision:
    """Tie if the 90% interval is inside ±margin (TOST); else winner if the 95% interval excludes 0;
    otherwise open, with the seeds that would decide it if the observed spread holds."""
    if diff.n < 2 or math.isnan(diff.low95):
        return Decision("one sample", samples=samples)
    if -margin < diff.low90 and diff.high90 < margin:
        return Decision("tie")  # first: a consistent but negligible lead is a tie, not a win
    if diff.low95 > 0 or diff.high95 < 0:
        return Decision("winner")
    limit = MAX_SEEDS if samples == "seeds" else MAX_ROUNDS
    return Decision("open", samples_needed(diff, margin, limit), samples)


def samples_needed(diff: Difference, margin: float, limit: int = MAX_SEEDS) -> int | None:
    """Smallest sample count (per candidate) at which the observed mean and spread would decide
    either way; None beyond ``limit``."""
    effect, sd = abs(diff.mean), diff.sd
    q95, q90 = quantiles(diff.looks)
    n = max(diff.n, 2)
    while n <= limit:
        if half_width(sd, n, q95) < effect or half_width(sd, n, q90) < margin - effect:
            return n
        n += 1 if n < 100 else n // 10
    return None


def log_ratio(a: Sequence[float], b: Sequence[float], looks: int = 1) -> Difference:
    """Difference of mean log values (Welch): exp() of it and its bounds is the ratio a/b with its
    interval, the scale on which timings vary (noise is multiplicative)."""
    a = [math.log(v) for v in a if _finite(v) and v > 0]
    b = [math.log(v) for v in b if _finite(v) and v > 0]
    return welch(a, b, looks)


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value that a and b come from one distribution (asv's test for timing rounds);
    1.0 when either side is too small to test."""
    a = [v for v in a if _finite(v)]
    b = [v for v in b if _finite(v)]
    if len(a) < 2 or len(b) < 2:
        return 1.0
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
