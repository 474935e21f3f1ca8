"""The report's opening answers, generated from the records (never copied from a suite's
description): per suite, what is decided, what is not and what it would take, what diverged, and
which settings could not take effect or are confounded."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from bench.metrics import kernel_check_failures
from report.frame import grid_axes, measured
from report.layer_tables import LAYER_KEYS
from report.verdicts import DEFAULTS, Verdict, headline

TABLE_ROWS = 12  # headline results shown per suite; the verdict table below has every setting
LISTED = 4  # settings named in a sentence before "and N more"


HEADLINE_TEXT = {"accuracy": "best accuracy against the runner-up, per setting",
                 "baseline": "each candidate's accuracy against the baseline, per setting",
                 "versus_field": "two accuracies of the same models, per candidate and setting",
                 "throughput": "fastest training against the runner-up, per setting"}
TABLE_HEADERS = {"accuracy": ["best accuracy", "lead [95% interval]"],
                 "baseline": ["candidate (accuracy)", "difference [95% interval]"],
                 "versus_field": ["candidate: accuracy", "difference [95% interval]"],
                 "throughput": ["fastest (samples/s)", "speed-up [95% interval]"]}


@dataclass
class SuiteFindings:
    name: str
    sentences: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    more_rows: list[list[str]] = field(default_factory=list)  # headline rows beyond TABLE_ROWS, folded
    headline_total: int = 0
    headline_decided: int = 0


def model_findings(name: str, frame: pd.DataFrame, verdicts: list[Verdict],
                   options: dict | None = None) -> SuiteFindings:
    """The suite's headline verdicts first (``verdicts.headline``: what its question compares), as a
    sentence and a compact table, decided ones first; then the other verdicts and what the records show."""
    options = {**DEFAULTS, **(options or {})}
    accuracy_field = options["accuracy_field"]
    findings = SuiteFindings(name)
    accuracy = [v for v in verdicts if v.metric == "accuracy" and v.runner_up]
    speed = [v for v in verdicts if v.metric == "throughput" and v.runner_up]
    families = {
        "accuracy": _accuracy_sentences(accuracy, accuracy_field) if accuracy else [],
        "throughput": [_speed_sentence(speed)] if speed else [],
        "baseline": _paired_sentences([v for v in verdicts if v.metric == "accuracy vs baseline"]),
        "versus_field": _paired_sentences([v for v in verdicts if v.metric == "accuracy vs field"]),
    }
    lead = headline(verdicts, options)
    findings.headline_total, findings.headline_decided = len(lead), sum(v.decided for v in lead)
    if lead:
        findings.sentences.append(f"Headline ({HEADLINE_TEXT[options['headline']]}): {findings.headline_decided} "
                                  f"of {len(lead)} comparison(s) decided.")
    order = [options["headline"], *(family for family in families if family != options["headline"])]
    findings.sentences += [sentence for family in order for sentence in families[family]]
    if not accuracy and not lead and not measured(frame).empty:
        findings.sentences.append("One candidate per setting: nothing to compare (a suite with one normalizer "
                                  "can set verdicts.candidates to the grid axis whose values compete).")
    findings.sentences += (_kernel_sentences(frame) + _precise_bn_sentences(frame) + _divergence_sentences(frame)
                           + _warning_sentences(frame) + _batch_confound(frame))
    # decided first: winners by lead, then ties at the highest value (two diverged candidates tie at
    # chance level); then the open ones, fewest seeds needed first
    ranked = sorted(lead, key=lambda v: (not v.decided, v.decision.outcome != "winner",
                                         v.decision.needed or math.inf, -abs(v.diff.mean), -v.best_value))
    findings.header = ["setting", *TABLE_HEADERS[options["headline"]], "verdict"]
    rows = [[_setting(v.setting), v.best_text(), v.effect_text(), v.verdict_text()] for v in ranked]
    findings.rows, findings.more_rows = rows[:TABLE_ROWS], rows[TABLE_ROWS:]
    if not findings.sentences:
        findings.sentences.append("No measured cases yet.")
    return findings


def _accuracy_sentences(verdicts: list[Verdict], field: str = "test_accuracy") -> list[str]:
    outcomes = Counter(v.decision.outcome for v in verdicts)
    ties = f"{outcomes['tie']} tie(s) within ±{verdicts[0].margin * 100:g} points"
    what = "Accuracy (inference mode)" if field == "test_accuracy" else f"Accuracy ({field})"
    sentences = [f"{what}, best against runner-up at {len(verdicts)} setting(s): "
                 f"{outcomes['winner']} clear winner(s), {ties}, {outcomes['open'] + outcomes['one sample']} open."]
    winners = [v for v in verdicts if v.decision.outcome == "winner"]
    for best, count in Counter(v.best for v in winners).most_common():
        won = [v for v in winners if v.best == best]
        leads = sorted(v.diff.mean for v in won)
        lead = f"{leads[0]:+.3f}" if len(leads) == 1 else f"{leads[0]:+.3f} to {leads[-1]:+.3f}"
        sentences.append(f"{best} is clearly best at {_listed([_setting(v.setting) for v in won])} "
                         f"(lead {lead} over the runner-up).")
    open_ = [v for v in verdicts if v.decision.outcome == "open"]
    if open_:
        needed = [v.decision.needed for v in open_ if v.decision.needed]
        beyond = len(open_) - len(needed)
        text = f"Not settled by these seeds: {_listed([_setting(v.setting) for v in open_])}. "
        if needed:
            text += (f"From the observed spread, about {statistics.median(needed):.0f} seeds per candidate "
                     f"would settle half of them (range {min(needed)}-{max(needed)})")
            text += f"; {beyond} differ by too little for any affordable seed count." if beyond else "."
        else:
            text += "The leads are too small for any affordable seed count to settle."
        sentences.append(text)
    return sentences


def _paired_sentences(verdicts: list[Verdict]) -> list[str]:
    """Per candidate, against its counterpart (the suite's baseline, or a second accuracy of the
    same cases): where it is better, worse, tied, open."""
    sentences = []
    for label in dict.fromkeys(v.best for v in verdicts):
        mine = [v for v in verdicts if v.best == label]
        better = [v for v in mine if v.decision.outcome == "winner" and v.diff.mean > 0]
        worse = [v for v in mine if v.decision.outcome == "winner" and v.diff.mean < 0]
        ties = sum(v.decision.outcome == "tie" for v in mine)
        parts = []
        for name, group in (("better", better), ("worse", worse)):
            if group:
                leads = ", ".join(f"{_setting(v.setting)} ({v.diff.mean:+.3f})" for v in group[:LISTED])
                more = f" and {len(group) - LISTED} more" if len(group) > LISTED else ""
                parts.append(f"clearly {name} at {len(group)} ({leads}{more})")
        parts.append(f"tied at {ties}")
        parts.append(f"open at {len(mine) - len(better) - len(worse) - ties}")
        sentences.append(f"{label} against {mine[0].runner_up}, accuracy over {len(mine)} setting(s): "
                         + "; ".join(parts) + ".")
    return sentences


def _speed_sentence(verdicts: list[Verdict]) -> str:
    clear = [v for v in verdicts if v.decision.outcome == "winner"]
    ties = sum(v.decision.outcome == "tie" for v in verdicts)
    parts = []
    for best, count in Counter(v.best for v in clear).most_common(3):
        ratios = sorted(math.exp(v.diff.mean) for v in clear if v.best == best)
        parts.append(f"{best} at {count} ({ratios[0]:.2f}x-{ratios[-1]:.2f}x the runner-up)")
    text = (f"Training speed, over every timed round: fastest clearly at {len(clear)} of {len(verdicts)} "
            f"setting(s)" + (f": {'; '.join(parts)}" if parts else "") + f"; {ties} tie(s).")
    return text


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
            f"setting(s); largest gain {best_gain:+.3f} at {_setting(setting)} (inference accuracy "
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
        diverged.append((group["nan_rate"].mean(), f"{_setting(setting)} (NaN in {group['nan_rate'].mean():.1%} "
                         f"of steps, {len(hit)} of {len(group)} seeds, accuracy {group['test_accuracy'].mean():.3f})"))
    counts = ", ".join(f"{name} at {n} of {settings[name]} settings" for name, n in per_normalizer.most_common())
    worst = [text for _, text in sorted(diverged, key=lambda item: -item[0])]
    return [f"Training diverged (non-finite loss): {counts}. Worst: {_listed(worst, 3)}."]


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
    return [f"Kernel checks failed in {len(failing)} case(s): {_listed(failing, 3)}."]


def layer_findings(name: str, frame: pd.DataFrame) -> SuiteFindings:
    """Each layer's time relative to BatchNorm's at the same setting, as a range over settings."""
    findings = SuiteFindings(name)
    findings.sentences += _kernel_sentences(frame)
    data = measured(frame)
    if data.empty or not (data["kind"] == "batch").any():
        findings.sentences.append("No BatchNorm baseline measured yet.")
        return findings
    keys = [k for k in LAYER_KEYS if k in data.columns]
    times = data.groupby([*keys, "normalizer", "kind"], dropna=False)["layer_median_s"].median().reset_index()
    baseline = times[times["kind"] == "batch"].set_index(keys)["layer_median_s"]
    for label, sub in times[times["kind"] != "batch"].groupby("normalizer"):
        ratios = (sub.set_index(keys)["layer_median_s"] / baseline).dropna()
        if ratios.empty:
            continue
        findings.sentences.append(
            f"{label} takes {ratios.min():.2f}x-{ratios.max():.2f}x BatchNorm's time (median "
            f"{ratios.median():.2f}x) over {len(ratios)} setting(s); slower than BN at "
            f"{int((ratios > 1).sum())}.")
    return findings


def _setting(setting: dict) -> str:
    """``k=v, ...``; the device only when it is not the CPU (most runs have no GPU)."""
    return ", ".join(f"{k}={_value(v)}" for k, v in setting.items()
                     if not (k == "device" and v == "cpu") and not pd.isna(v))


def _value(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _listed(items: list[str], limit: int = LISTED) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")
