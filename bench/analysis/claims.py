"""Claims as tests: what a paper (or the user) says, judged against a suite's records.

A suite's ``claims`` (parsed and checked against its grid by :mod:`bench.suite.claims`) each say
that one effect lies in a region: a *comparison* (a candidate minus a reference, or one field minus
another of the same cases) or a *trend* (that difference at one setting minus the same difference at
another: Wu & He (2018)'s "BN's error grows at small batches while GN's stays flat"). The effect is
measured with the headline verdicts' statistics (:func:`bench.analysis.stats.difference`: paired by
seed where the seeds match, else Welch) and the claim is

- **supported** when the interval lies inside the claimed region (95% for a direction and size;
  90% for ``within``, the verdicts' equivalence test, TOST at 5% a side),
- **contradicted** when the 95% interval lies entirely outside it,
- **open** otherwise, with the seeds per candidate that would settle it if the spread holds.

Each setting (device and shared grid axes, as :func:`bench.analysis.verdicts.labelled` keys them)
the claim covers is its own :class:`ClaimResult`: a claim can hold at batch 2 and fail at batch 32.
Throughputs (``train_samples_per_sec``) are compared as ratios, on the log scale.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field as dataclass_field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from bench.analysis.frame import measured
from bench.analysis.headlines import DEFAULTS
from bench.analysis.stats import MAX_SEEDS, Difference, difference, estimate_text, half_width, quantiles
from bench.analysis.verdicts import labelled
from bench.core.params import Param, at_least
from bench.results.fields import FIELDS, label

EXPECTATIONS = ("better_by_at_least", "worse_by_at_least", "within")
OUTCOMES = ("supported", "contradicted", "open", "one seed", "no data")
DECIDED = ("supported", "contradicted")


def claim_fields() -> tuple[str, ...]:
    """Record fields a claim can compare: numbers with a better direction in the field table."""
    return tuple(name for name, f in FIELDS.items() if f.numeric and f.better)


def _claim_field(value: str) -> str | None:
    return None if value in claim_fields() else f"must be one of {', '.join(map(repr, claim_fields()))}"


def _optional_field(value: str) -> str | None:
    return None if value == "" else _claim_field(value)


# The schema of one entry of a suite's ``claims`` list; ``where`` and ``trend`` (mappings of grid
# axes) and ``candidate`` / ``reference`` (labels, or values of the competing axis) are checked
# against the suite by bench.suite.claims.
CLAIM_OPTIONS: Mapping[str, Param] = {
    "source": Param(str, help="where the claim comes from: a citation, or 'ours' for your own"),
    "text": Param(str, help="the claim in words, as the report shows it"),
    "field": Param(str, "", _optional_field,
                   help="the record field compared (default: the suite's verdicts.accuracy_field)"),
    "versus_field": Param(str, "", _optional_field,
                          help="compare field with this second field of the same cases (instead of a reference)"),
    "better_by_at_least": Param(float, None, at_least(0),
                                help="the claimed effect: candidate better than reference by at least this much "
                                     "(accuracy: a fraction, 0.05 = 5 points; speed: relative, 0.05 = 5%)"),
    "worse_by_at_least": Param(float, None, at_least(0), help="candidate worse by at least this much"),
    "within": Param(float, None, at_least(0), help="candidate within this much of the reference, either way"),
}
CLAIM_KEYS = (*CLAIM_OPTIONS, "candidate", "reference", "where", "trend")


@dataclass(frozen=True)
class Claim:
    """One checked claim. ``candidate`` and ``reference`` are labels as the verdicts name candidates
    (``group``, ``batch (momentum=0.99)``, ``precise_bn_samples=1024``); an empty ``candidate`` in
    the field form means every candidate. ``where`` maps grid axes to the values the claim covers
    (every setting when empty); ``trend`` is (at, versus): one value per trend axis each."""

    source: str
    text: str
    expect: str  # one of EXPECTATIONS
    size: float
    candidate: str = ""
    reference: str = ""
    field: str = ""  # empty: the suite's verdicts.accuracy_field
    versus_field: str = ""
    where: dict = dataclass_field(default_factory=dict)
    trend: tuple[dict, dict] | None = None
    index: int = 0  # position in the suite's claims list

    def compared_field(self, options: Mapping) -> str:
        return self.field or options.get("accuracy_field", DEFAULTS["accuracy_field"])

    def scale(self, options: Mapping) -> str:
        """``ratio`` for throughputs (compared on the log scale), else ``difference``."""
        return "ratio" if FIELDS[self.compared_field(options)].is_rate else "difference"

    def region(self, options: Mapping) -> tuple[float, float]:
        """The claimed region of the effect (candidate - reference; logs for a ratio), from the
        field's better direction: "better by 0.05" on a lower-is-better field is <= -0.05."""
        size = math.log1p(self.size) if self.scale(options) == "ratio" else self.size
        if self.expect == "within":
            return -size, size
        sign = 1 if FIELDS[self.compared_field(options)].better == "higher" else -1
        if self.expect == "worse_by_at_least":
            sign = -sign
        return (size, math.inf) if sign > 0 else (-math.inf, -size)

    def region_text(self, options: Mapping) -> str:
        low, high = self.region(options)
        ratio = self.scale(options) == "ratio"
        show = (lambda v: f"{math.exp(v):.2f}x") if ratio else (lambda v: f"{v:+.3f}")
        if self.expect == "within":
            return f"{show(low)} .. {show(high)}"
        return f">= {show(low)}" if math.isfinite(low) else f"<= {show(high)}"

    def where_text(self) -> str:
        parts = [f"{axis} in {', '.join(map(_text, values))}" if len(values) > 1 else f"{axis}={_text(values[0])}"
                 for axis, values in self.where.items()]
        if self.trend:
            at, versus = self.trend
            parts.insert(0, f"{_setting_text(at)} vs {_setting_text(versus)}")
        return "; ".join(parts) or "every setting"


@dataclass(frozen=True)
class ClaimResult:
    """A claim judged at one setting (two for a trend: at, then versus). ``subject`` names what was
    compared there (``group - batch``); ``needed``: seeds per candidate that would settle an open
    claim if the observed spread holds (None: decided, no spread yet, or more than MAX_SEEDS)."""

    claim: Claim
    settings: list[dict]
    subject: str
    diff: Difference | None
    outcome: str
    needed: int | None
    scale: str = "difference"
    region: tuple[float, float] = (-math.inf, math.inf)

    @property
    def decided(self) -> bool:
        return self.outcome in DECIDED

    def setting_text(self) -> str:
        return " vs ".join(_setting_text(s) for s in self.settings) or "-"

    def effect_text(self) -> str:
        """The measured effect with its 95% interval (a ratio for throughputs)."""
        d = self.diff
        if d is None or math.isnan(d.mean):
            return "not measured"
        return estimate_text(d, self.scale)

    def outcome_text(self) -> str:
        if self.outcome == "open":
            return (f"open: about {self.needed} seeds would settle it" if self.needed
                    else f"open: more than {MAX_SEEDS} seeds needed")
        if self.outcome == "one seed":
            return "one seed: no interval"
        if self.outcome == "no data":
            return "not measured in this run"
        return self.outcome


def claim_results(frame: pd.DataFrame, suite_claims: Sequence[Claim],
                  verdict_options: Mapping | None = None) -> list[ClaimResult]:
    """Every claim judged at every setting it covers, in the suite's claim order; a claim with no
    records at any of its settings is one ``no data`` result (e.g. a quick run's shorter grid)."""
    options = {**DEFAULTS, **(verdict_options or {})}
    data = measured(frame)
    keys: list[str] = []
    if not data.empty:
        data, keys = labelled(data, options)
    results = []
    for claim in suite_claims:
        found = _judge_claim(claim, data, keys, options) if not data.empty else []
        results += found or [ClaimResult(claim, [], _subject(claim, options), None, "no data", None,
                                         claim.scale(options), claim.region(options))]
    return results


def _judge_claim(claim: Claim, data: pd.DataFrame, keys: list[str], options: Mapping) -> list[ClaimResult]:
    data = _covered(data, claim.where)
    if data.empty:
        return []
    if claim.trend is None:
        results = []
        for key, group in data.groupby(keys, dropna=False, sort=True):
            setting = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
            for subject, a, b in _pairs(claim, group, options):
                results.append(_result(claim, [setting], subject, difference(a, b, options["looks"]), options))
        return results
    at, versus = claim.trend
    row_keys = [k for k in keys if k not in at]
    results = []
    groups = data.groupby(row_keys, dropna=False, sort=True) if row_keys else [((), data)]
    for key, group in groups:
        base = dict(zip(row_keys, key if isinstance(key, tuple) else (key,)))
        at_group, versus_group = _covered(group, at, strict=True), _covered(group, versus, strict=True)
        if at_group.empty or versus_group.empty:
            continue
        versus_pairs = {subject: (a, b) for subject, a, b in _pairs(claim, versus_group, options)}
        for subject, a, b in _pairs(claim, at_group, options):
            if subject not in versus_pairs:
                continue
            diff = difference(_paired(a, b), _paired(*versus_pairs[subject]), options["looks"])
            results.append(_result(claim, [{**base, **at}, {**base, **versus}], subject, diff, options))
    return results


def _pairs(claim: Claim, group: pd.DataFrame, options: Mapping) -> list[tuple[str, dict, dict]]:
    """(subject, candidate's values by seed, reference's) at one setting: every candidate label the
    claim names (``batch`` also names ``batch (momentum=0.9)``) against every reference label."""
    name = claim.compared_field(options)
    log = claim.scale(options) == "ratio"
    by_label = {lab: sub for lab, sub in group.groupby("candidate")}
    candidates = [lab for lab in by_label if _names(claim.candidate, lab)] if claim.candidate else list(by_label)
    pairs = []
    if claim.versus_field:
        for lab in candidates:
            a, b = _by_seed(by_label[lab], name, log), _by_seed(by_label[lab], claim.versus_field, log)
            if a and b:
                pairs.append((f"{lab}: {label(name)} - {label(claim.versus_field)}", a, b))
        return pairs
    references = [lab for lab in by_label if _names(claim.reference, lab)]
    for lab in candidates:
        for ref in references:
            a, b = _by_seed(by_label[lab], name, log), _by_seed(by_label[ref], name, log)
            if lab != ref and a and b:
                pairs.append((f"{lab} - {ref}", a, b))
    return pairs


def _result(claim: Claim, settings: list[dict], subject: str, diff: Difference, options: Mapping) -> ClaimResult:
    low, high = claim.region(options)
    outcome, needed = judge(diff, low, high, claim.expect == "within")
    return ClaimResult(claim, settings, subject, diff, outcome, needed, claim.scale(options), (low, high))


def judge(diff: Difference, low: float, high: float, equivalence: bool = False) -> tuple[str, int | None]:
    """Supported, contradicted, open (with the seeds that would settle it) or one seed, for an
    effect claimed to lie in [low, high]; ``equivalence`` (a ``within`` claim) supports on the 90%
    interval, as the verdicts' TOST tie does."""
    if diff.n < 2 or math.isnan(diff.low95):
        return ("one seed" if diff.n >= 1 and not math.isnan(diff.mean) else "no data"), None
    outcome = _outcome(diff.mean, diff.high95 - diff.mean, diff.high90 - diff.mean, low, high, equivalence)
    if outcome != "open":
        return outcome, None
    return "open", _seeds_needed(diff, low, high, equivalence)


def _outcome(mean: float, h95: float, h90: float, low: float, high: float, equivalence: bool) -> str:
    inner = h90 if equivalence else h95
    if low < mean - inner and mean + inner < high:
        return "supported"
    if mean + h95 < low or mean - h95 > high:
        return "contradicted"
    return "open"


def _seeds_needed(diff: Difference, low: float, high: float, equivalence: bool) -> int | None:
    """Smallest seed count at which the observed mean and spread would decide the claim
    (stats.samples_needed for a region instead of zero and a margin); None beyond MAX_SEEDS."""
    n = max(diff.n, 2)
    q95, q90 = quantiles(diff.looks)
    while n <= MAX_SEEDS:
        h95, h90 = half_width(diff.sd, n, q95), half_width(diff.sd, n, q90)
        if _outcome(diff.mean, h95, h90, low, high, equivalence) != "open":
            return n
        n += 1
    return None


def _covered(data: pd.DataFrame, where: Mapping, strict: bool = False) -> pd.DataFrame:
    """Records at the ``where`` values; an axis a record's normalizer lacks (momentum for LayerNorm)
    does not exclude it, unless ``strict`` (a trend's settings must each be measured)."""
    keep = pd.Series(True, index=data.index)
    for axis, values in where.items():
        values = values if isinstance(values, (list, tuple)) else [values]
        if axis not in data.columns:
            return data.iloc[0:0]
        wanted = {_text(v) for v in values}
        inside = data[axis].map(lambda v: _text(v) in wanted)
        if not strict:
            inside |= data["not_applicable"].map(lambda skipped: isinstance(skipped, list) and axis in skipped)
        keep &= inside
    return data[keep]


def _paired(a: Mapping[int, float], b: Mapping[int, float]) -> dict[int, float]:
    """Per-seed differences a - b on the seeds both have (a trend differences them again)."""
    return {s: a[s] - b[s] for s in sorted(set(a) & set(b))}


def _by_seed(group: pd.DataFrame, column: str, log: bool) -> dict[int, float]:
    values = group[["seed", column]].dropna()
    means = values.groupby("seed")[column].mean()
    if log:
        return {int(s): math.log(v) for s, v in means.items() if v > 0}
    return {int(s): float(v) for s, v in means.items()}


def _names(wanted: str, candidate_label: str) -> bool:
    return candidate_label == wanted or candidate_label.startswith(f"{wanted} (")


def _subject(claim: Claim, options: Mapping) -> str:
    if claim.versus_field:
        name = claim.compared_field(options)
        return f"{claim.candidate or 'each candidate'}: {label(name)} - {label(claim.versus_field)}"
    return f"{claim.candidate} - {claim.reference}"


def _setting_text(setting: Mapping) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in setting.items())


def _text(value) -> str:
    """A setting value as text that matches however it was stored (2, 2.0 and numpy's 2 agree; floats
    in %g, so 1e-05 and 0.00001 agree)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return "" if math.isnan(number) else format(number, "g")
    return str(value)
