"""The report's opening answers, generated from the records (never copied from a suite's
description): per suite, what is decided, what is not and what it would take, what diverged, and
which settings could not take effect or are confounded."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from bench.analysis.frame import grid_axes, measured
from bench.analysis.headlines import DEFAULTS, HEADLINES
from bench.analysis.kernel_flags import kernel_check_failures
from bench.analysis.sentences import listed, setting_text, summary_sentence
from bench.analysis.verdicts import Verdict, headline
from report.layer_tables import LAYER_KEYS

TABLE_ROWS = 12  # headline results shown per suite; the verdict table below has every setting


@dataclass
class SuiteFindings:
    name: str
    sentences: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    more_rows: list[list[str]] = field(default_factory=list)  # headline rows beyond TABLE_ROWS, folded
    # the other headline kinds' comparisons, one table each (folded): (what it compares, header, rows)
    other_tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    headline_total: int = 0
    headline_decided: int = 0
    summary: str = ""  # the answer in one sentence: the first screen shows it beside the forest plot
    headline: list[Verdict] = field(default_factory=list)  # the headline verdicts, for the forest plot
    what: str = ""  # what the headline compares (its kind's summary)


def model_findings(name: str, frame: pd.DataFrame, verdicts: list[Verdict],
                   options: dict | None = None) -> SuiteFindings:
    """The suite's headline verdicts first (``verdicts.headline``: what its question compares), as a
    sentence and a compact table, decided ones first; then every other headline kind's sentences
    (:mod:`bench.analysis.headlines`) and what the records show."""
    options = {**DEFAULTS, **(options or {})}
    findings = SuiteFindings(name)
    kind = HEADLINES[options["headline"]]
    lead = headline(verdicts, options)
    findings.headline_total, findings.headline_decided = len(lead), sum(v.decided for v in lead)
    findings.headline, findings.what = lead, kind.summary
    if lead:
        findings.sentences.append(f"Headline ({kind.summary}): {findings.headline_decided} "
                                  f"of {len(lead)} comparison(s) decided.")
    for other in [kind, *(k for k in HEADLINES.values() if k is not kind)]:
        findings.sentences += other.describe([v for v in verdicts if v.kind == other.name], options)
    compared = any(v.runner_up for v in verdicts)
    if not compared and not measured(frame).empty:
        findings.sentences.append("One candidate per setting: nothing to compare (a suite with one normalizer "
                                  "can set verdicts.candidates to the grid axis whose values compete).")
    findings.sentences += (_kernel_sentences(frame) + _precise_bn_sentences(frame) + _divergence_sentences(frame)
                           + _warning_sentences(frame) + _batch_confound(frame))
    findings.header = ["setting", *kind.header, "verdict"]
    rows = _rows(lead)
    findings.rows, findings.more_rows = rows[:TABLE_ROWS], rows[TABLE_ROWS:]
    for other in HEADLINES.values():
        compared = [v for v in verdicts if v.kind == other.name and v.runner_up is not None]
        if other is not kind and compared:
            findings.other_tables.append((other.summary, ["setting", *other.header, "verdict"], _rows(compared)))
    if not findings.sentences:
        findings.sentences.append("No measured cases yet.")
    findings.summary = summary_sentence(lead, kind.summary) or findings.sentences[0]
    return findings


def _rows(verdicts: list[Verdict]) -> list[list[str]]:
    """Table rows, decided first: winners by lead, then ties at the highest value (two diverged
    candidates tie at chance level); then the open ones, fewest seeds needed first."""
    ranked = sorted(verdicts, key=lambda v: (not v.decided, v.decision.outcome != "winner",
                                             v.decision.needed or math.inf, -abs(v.diff.mean), -v.best_value))
    return [[setting_text(v.setting), v.best_text(), v.effect_text(), v.verdict_text()] for v in ranked]


def _precise_bn_sentences(frame: pd.DataFrame) -> list[str]:
    """What PreciseBN's recomputed statistics changed, per setting, against the moving averages."""
    data = measured(frame).dropna(subset=["test_accuracy_precise_bn", "test_accuracy"])
    if data.empty:
        return []
    keys = ["device", "normalizer", *[a for a in grid_axes(data) if a not in ("device", "normalizer")]]
    gains = []
    for key, group in data.groupby(keys, dropna=False, sort=True):
        gain = (group["test_accuracy_precise_bn"] - group["test_accuracy"]).mean()
        gains.append((gain, dict(zip(keys, key if isinstance(key, tuple) else (key,))), group))
    gains.sort(key=lambda item: -item[0])
    best_gain, setting, group = gains[0]
    helped = sum(gain > 0.01 for gain, _, _ in gains)
    return [f"PreciseBN against the moving averages: better by more than 1 point at {helped} of {len(gains)} "
            f"setting(s); largest gain {best_gain:+.3f} at {setting_text(setting)} (inference accuracy "
            f"{group['test_accuracy'].mean():.3f} -> {group['test_accuracy_precise_bn'].mean():.3f}; "
            f"training mode {group['test_accuracy_training_mode'].mean():.3f})."]


def _divergence_sentences(frame: pd.DataFrame) -> list[str]:
    data = measured(frame)
    if data.empty or not (data["nan_rate"].fillna(0) > 0).any():
        return []
    keys = ["device", "normalizer", *[a for a in grid_axes(data) if a not in ("device", "normalizer")]]
    diverged, per_normalizer, settings = [], Counter(), Counter()
    for key, group in data.groupby(keys, dropna=False, sort=True):
        setting = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        settings[setting["normalizer"]] += 1
        hit = group[group["nan_rate"].fillna(0) > 0]
        if hit.empty:
            continue
        per_normalizer[setting["normalizer"]] += 1
        diverged.append((group["nan_rate"].mean(), f"{setting_text(setting)} (NaN in {group['nan_rate'].mean():.1%} "
                         f"of steps, {len(hit)} of {len(group)} seeds, accuracy {group['test_accuracy'].mean():.3f})"))
    counts = ", ".join(f"{name} at {n} of {settings[name]} settings" for name, n in per_normalizer.most_common())
    worst = [text for _, text in sorted(diverged, key=lambda item: -item[0])]
    return [f"Training diverged (non-finite loss): {counts}. Worst: {listed(worst, 3)}."]


def _warning_sentences(frame: pd.DataFrame) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in frame.iterrows():
        warnings = row["warnings"] if isinstance(row["warnings"], list) else []
        axes = row["axes"] if isinstance(row["axes"], dict) else {}
        for warning in warnings:
            settings = ", ".join(f"{k}={v}" for k, v in axes.items())
            seen.setdefault(f"{row['normalizer']} at {settings}: {warning}", None)
    return [f"Not in effect: {text}." for text in seen]


def _batch_confound(frame: pd.DataFrame) -> list[str]:
    """Batch sizes compared at fixed epochs train for different step counts: say so."""
    data = measured(frame)
    if "batch_size" not in grid_axes(data) or data["steps"].dropna().empty:
        return []
    steps = data.groupby("batch_size")["steps"].median()
    if steps.nunique() < 2:
        return [f"Batch sizes are compared at a fixed {int(steps.iloc[0])} training steps."]
    low, high = steps.idxmin(), steps.idxmax()
    return [f"Epochs, not steps, are held fixed: {int(steps[high]):,} steps at batch {high:g}, "
            f"{int(steps[low]):,} at batch {low:g}. Accuracy across batch sizes mixes batch size with "
            f"training length; compare normalizers within one batch size."]


def _kernel_sentences(frame: pd.DataFrame) -> list[str]:
    """Cases whose kernel checks fail (bench.measure.kernel_checks.flags), named."""
    failing = []
    for _, row in frame.iterrows():
        problems = kernel_check_failures({key: (None if pd.isna(value) else value) if not isinstance(value, (list, dict)) else value
                          for key, value in row.items()})
        failing += [f"{row['case_id']}: {problem}" for problem in problems]
    if not failing:
        return []
    return [f"Kernel checks failed in {len(failing)} case(s): {listed(failing, 3)}."]


def layer_findings(name: str, frame: pd.DataFrame) -> SuiteFindings:
    """Each layer's time relative to BatchNorm's at the same setting, as a range over settings."""
    findings = SuiteFindings(name)
    findings.sentences += _kernel_sentences(frame)
    data = measured(frame)
    if data.empty or not (data["normalizer_kind"] == "batch").any():
        findings.sentences.append("No BatchNorm baseline measured yet.")
        findings.summary = findings.sentences[0]
        return findings
    medians = []
    keys = [k for k in LAYER_KEYS if k in data.columns]
    times = data.groupby([*keys, "normalizer", "normalizer_kind"], dropna=False)["layer_median_s"].median().reset_index()
    baseline = times[times["normalizer_kind"] == "batch"].set_index(keys)["layer_median_s"]
    for label, sub in times[times["normalizer_kind"] != "batch"].groupby("normalizer"):
        ratios = (sub.set_index(keys)["layer_median_s"] / baseline).dropna()
        if ratios.empty:
            continue
        findings.sentences.append(
            f"{label} takes {ratios.min():.2f}x-{ratios.max():.2f}x BatchNorm's time (median "
            f"{ratios.median():.2f}x) over {len(ratios)} setting(s); slower than BN at "
            f"{int((ratios > 1).sum())}.")
        medians.append(f"{label} {ratios.median():.2f}x")
    findings.summary = (f"Median layer time against BatchNorm's at the same setting: {', '.join(medians)}."
                        if medians else " ".join(findings.sentences[:1]))
    return findings
