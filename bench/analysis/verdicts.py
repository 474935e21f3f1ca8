"""Per-setting verdicts: every registered comparison run over every setting of a suite's records.

A *setting* is one device plus the values of the grid axes every normalizer shares (batch size,
learning rate, epochs...). The *candidates* at a setting are the normalizers, each with its own
axis values when the grid varies them (``batch (momentum=0.99)``), or the values of one grid axis
(``verdicts.candidates``). Each headline kind (:mod:`bench.analysis.headlines`) compares them its
own way (:mod:`bench.analysis.comparisons`); each verdict is "clear" (a winner beyond noise),
"equivalent" (a tie within the suite's margin), or open with the seeds that would settle it
(:mod:`bench.analysis.stats`).
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from bench.analysis import sequential
from bench.analysis.comparisons import Rounds, Verdict
from bench.analysis.frame import grid_axes, measured
from bench.analysis.headlines import DEFAULTS, HEADLINES

__all__ = ["DEFAULTS", "Rounds", "Verdict", "setting_verdicts", "labelled", "headline", "suite_verdicts"]


def setting_verdicts(frame: pd.DataFrame, rounds: Rounds | None = None,
                     options: dict | None = None) -> list[Verdict]:
    """Every headline kind's verdicts at every setting of one suite's records; ``options`` is the
    suite's ``verdicts`` section (what competes, the margins of a tie)."""
    options = {**DEFAULTS, **(options or {})}
    data = measured(frame)
    if data.empty:
        return []
    data, keys = labelled(data, options)
    axis = options["candidates"]
    if options["baseline"] and axis != "normalizer":
        options = {**options, "baseline": f"{axis}={options['baseline']}"}
    verdicts = []
    for key, group in data.groupby(keys, dropna=False, sort=True):
        setting = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        for kind in HEADLINES.values():
            verdicts += kind.compare(kind.name, setting, group, options, rounds or {})
    if options["looks"] > 1:  # a budgeted run ended: say why each open comparison is still open
        verdicts = [_why_open(v, options["max_seeds"]) for v in verdicts]
    return verdicts


def _why_open(verdict: Verdict, cap: int) -> Verdict:
    if verdict.decision.outcome != "open":
        return verdict
    why = sequential.why_open(verdict.diff, verdict.decision.needed, cap, budget_spent=True)
    return dataclasses.replace(verdict, decision=dataclasses.replace(verdict.decision, why=why))


def labelled(data: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, list[str]]:
    """The measured records with a ``candidate`` column (the labels verdicts and claims name), and the
    keys of a setting: device and the shared axes (and the normalizer when an axis's values compete)."""
    shared, specific = _axes(data)
    axis = options.get("candidates", DEFAULTS["candidates"])
    if axis != "normalizer" and axis in shared:  # the values of one axis compete, per normalizer
        data = data.assign(candidate=data[axis].map(lambda v: f"{axis}={_fmt_key(v)}"))
        return data, ["device", "normalizer", *(a for a in shared if a != axis)]
    data = data.assign(candidate=data.apply(lambda row: _label(row, specific), axis=1))
    return data, ["device", *shared]


def headline(verdicts: list[Verdict], options: dict | None = None) -> list[Verdict]:
    """The verdicts that answer the suite's question (``verdicts.headline``); a lone candidate's
    "verdict" compares nothing and is left out."""
    kind = {**DEFAULTS, **(options or {})}["headline"]
    return [v for v in verdicts if v.kind == kind and v.runner_up is not None]


def suite_verdicts(frame: pd.DataFrame, rounds: Rounds | None = None,
                   options: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """The verdict table: one row per setting, best accuracy then fastest training."""
    verdicts = setting_verdicts(frame, rounds, options)
    if not verdicts:
        return [], []
    keys = list(verdicts[0].setting)
    header = [*keys, "best accuracy", "lead [95% interval]", "verdict", "fastest training (samples/s)",
              "speed-up [95% interval]", "verdict "]
    rows: dict[tuple, list[str]] = {}
    for v in (v for v in verdicts if v.kind in ("accuracy", "throughput")):
        row = rows.setdefault(tuple(v.setting.values()), [_fmt_key(k) for k in v.setting.values()] + [""] * 6)
        offset = len(keys) + (0 if v.kind == "accuracy" else 3)
        row[offset:offset + 3] = [v.best_text(), v.effect_text(), v.verdict_text()]
    return header, list(rows.values())


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
