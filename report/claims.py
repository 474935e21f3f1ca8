"""A suite's claims in the report: a table (claim, source, where, measured effect with its 95%
interval, claimed region, outcome) and a forest plot of the effects, from the claims its run.json
kept (:mod:`bench.analysis.claims` judges them; this module only lays them out)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pandas as pd

from bench.analysis.claims import Claim, ClaimResult, claim_results
from bench.core.errors import NormbenchError
from bench.results.fields import FIELDS
from bench.suite.claims import parse_claims

HEADER = ["claim", "source", "where", "compared", "measured effect [95% interval]", "claimed", "outcome"]


@dataclass
class ClaimsSection:
    """What the report shows of one suite's claims; ``problem`` says why stored claims could not be read."""

    results: list[ClaimResult] = field(default_factory=list)
    header: list[str] = field(default_factory=lambda: list(HEADER))
    rows: list[list[str]] = field(default_factory=list)
    forests: list[str] = field(default_factory=list)  # data URIs, one per scale (points, speed ratios)
    problem: str = ""

    @property
    def sentence(self) -> str:
        """One line for the findings: how many claims were judged, and how."""
        if self.problem:
            return f"Claims: not judged ({self.problem})."
        claims = {r.claim.index for r in self.results}
        judged = [r for r in self.results if r.outcome != "no data"]
        outcomes = Counter(r.outcome for r in judged)
        parts = [f"{outcomes[o]} {o}" for o in ("supported", "contradicted", "open", "one seed") if outcomes[o]]
        text = f"Claims: {len(claims)} claim(s)"
        if judged:
            text += f", judged at {len(judged)} setting(s): {', '.join(parts)}"
        missing = len(self.results) - len(judged)
        return text + (f"; {missing} not measured in this run." if missing else ".")


def stored_claims(entry: Mapping, options: Mapping) -> tuple[Claim, ...]:
    """The claims of a suite as run.json stored its document (checked again for their own form; the
    grid was checked when the run started)."""
    document = entry.get("document") if isinstance(entry.get("document"), Mapping) else {}
    claims, _ = parse_claims(document.get("claims"), options)
    return claims


def claims_section(frame: pd.DataFrame, entry: Mapping, options: Mapping, figures: bool = True) -> ClaimsSection | None:
    """The suite's claims judged against its records, or None for a suite without claims."""
    try:
        claims = stored_claims(entry, options)
    except (NormbenchError, ValueError) as exc:  # a hand-edited run.json: say so, render the rest
        return ClaimsSection(problem=f"its stored claims cannot be read: {exc}")
    if not claims:
        return None
    results = claim_results(frame, claims, options)
    section = ClaimsSection(results, rows=[claim_row(r, options) for r in results])
    if figures:
        section.forests = claims_forests(results, options)
    return section


def claim_row(result: ClaimResult, options: Mapping) -> list[str]:
    claim = result.claim
    return [claim.text, claim.source, result.setting_text() if result.settings else claim.where_text(),
            result.subject, result.effect_text(), claim.region_text(options), result.outcome_text()]


AXES = {"points": "difference, 95% interval (accuracy points)", "ratio": "ratio, 95% interval (log scale)",
        "difference": "difference, 95% interval"}


def claims_forests(results: Sequence[ClaimResult], options: Mapping) -> list[str]:
    """The measured effects as forest plots (report/figures/forest.py), one per unit: accuracy
    differences in points, speed as ratios, other fields as they are; each row's status names the
    claimed region, and a claim's settings go under its text."""
    from report.figures.forest import ForestRow, forest_figure  # matplotlib: only when drawing

    by_unit: dict[str, list] = {}
    for r in results:
        if r.diff is None or math.isnan(r.diff.mean):
            continue
        unit = _unit(r, options)
        d = r.diff
        values = [_shown(x, unit) for x in (d.mean, d.low95, d.high95)]
        status = f"{r.outcome if r.outcome != 'one seed' else 'no interval'} ({_region_text(r.region, unit)})"
        by_unit.setdefault(unit, []).append(ForestRow(
            f"{r.setting_text()}\n{r.subject}", *values, "ratio" if unit == "ratio" else "difference", r.decided,
            status, d.n, "seeds", r.claim.text))
    return [forest_figure(rows, "Claims: measured effects", xlabel=AXES[unit]) for unit, rows in by_unit.items()]


def _unit(result: ClaimResult, options: Mapping) -> str:
    if result.scale == "ratio":
        return "ratio"
    return "points" if FIELDS[result.claim.compared_field(options)].is_accuracy else "difference"


def _shown(value: float, unit: str) -> float:
    if unit == "ratio":
        return math.exp(value)
    return value * 100 if unit == "points" else value


def _region_text(region: tuple[float, float], unit: str) -> str:
    show = (lambda v: f"{math.exp(v):.2f}x") if unit == "ratio" else (lambda v: f"{_shown(v, unit):+.3g}")
    low, high = region
    if math.isfinite(low) and math.isfinite(high):
        return f"{show(low)}..{show(high)}"
    return f">= {show(low)}" if math.isfinite(low) else f"<= {show(high)}"
