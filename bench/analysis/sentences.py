"""Verdicts summed up in sentences: what is decided, what is not and what it would take.

Pure functions of :class:`~bench.analysis.comparisons.Verdict` lists; each headline kind names its
sentence builder here, and the report prints what they return.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

import pandas as pd

from bench.analysis.comparisons import Verdict
from bench.results.fields import label

LISTED = 4  # settings named in a sentence before "and N more"


def best_sentences(verdicts: list[Verdict], options: dict) -> list[str]:
    """Best against runner-up over the settings: winners, ties, what stays open and what it would take."""
    verdicts = [v for v in verdicts if v.runner_up]
    if not verdicts:
        return []
    field = options["accuracy_field"]
    outcomes = Counter(v.decision.outcome for v in verdicts)
    ties = f"{outcomes['tie']} tie(s) within ±{verdicts[0].margin * 100:g} points"
    what = "Accuracy (inference mode)" if field == "test_accuracy" else f"Accuracy ({label(field)})"
    failed = f", {outcomes['all failed']} where every candidate failed" if outcomes["all failed"] else ""
    sentences = [f"{what}, best against runner-up at {len(verdicts)} setting(s): "
                 f"{outcomes['winner']} clear winner(s), {ties}{failed}, "
                 f"{outcomes['open'] + outcomes['one sample']} open."]
    winners = [v for v in verdicts if v.decision.outcome == "winner"]
    for best, _ in Counter(v.best for v in winners).most_common():
        won = [v for v in winners if v.best == best]
        leads = sorted(v.diff.mean for v in won)
        lead = f"{leads[0]:+.3f}" if len(leads) == 1 else f"{leads[0]:+.3f} to {leads[-1]:+.3f}"
        sentences.append(f"{best} is clearly best at {listed([setting_text(v.setting) for v in won])} "
                         f"(lead {lead} over the runner-up).")
    open_ = [v for v in verdicts if v.decision.outcome == "open"]
    if open_:
        sentences.append(open_sentence(open_))
    return sentences


def open_sentence(open_: list[Verdict]) -> str:
    """Which settings stay open and how many seeds the observed spread says would settle them."""
    needed = [v.decision.needed for v in open_ if v.decision.needed]
    beyond = len(open_) - len(needed)
    text = f"Not settled by these seeds: {listed([setting_text(v.setting) for v in open_])}. "
    if needed:
        text += (f"From the observed spread, about {statistics.median(needed):.0f} seeds per candidate "
                 f"would settle half of them (range {min(needed)}-{max(needed)})")
        text += f"; {beyond} differ by too little for any affordable seed count." if beyond else "."
    else:
        text += "The leads are too small for any affordable seed count to settle."
    return text


def paired_sentences(verdicts: list[Verdict], options: dict) -> list[str]:
    """Per candidate, against its counterpart (the suite's baseline, or a second accuracy of the
    same cases): where it is better, worse, tied, open."""
    sentences = []
    for name in dict.fromkeys(v.best for v in verdicts):
        mine = [v for v in verdicts if v.best == name]
        better = [v for v in mine if v.decision.outcome == "winner" and v.diff.mean > 0]
        worse = [v for v in mine if v.decision.outcome == "winner" and v.diff.mean < 0]
        ties = sum(v.decision.outcome == "tie" for v in mine)
        parts = []
        for word, group in (("better", better), ("worse", worse)):
            if group:
                leads = ", ".join(f"{setting_text(v.setting)} ({v.diff.mean:+.3f})"
                                  for v in group[:LISTED])
                more = f" and {len(group) - LISTED} more" if len(group) > LISTED else ""
                parts.append(f"clearly {word} at {len(group)} ({leads}{more})")
        failed = sum(v.decision.outcome == "all failed" for v in mine)
        parts.append(f"tied at {ties}")
        if failed:
            parts.append(f"all failed at {failed}")
        parts.append(f"open at {len(mine) - len(better) - len(worse) - ties - failed}")
        sentences.append(f"{name} against {mine[0].runner_up}, accuracy over {len(mine)} setting(s): "
                         + "; ".join(parts) + ".")
    return sentences


def speed_sentences(verdicts: list[Verdict], options: dict) -> list[str]:
    verdicts = [v for v in verdicts if v.runner_up]
    if not verdicts:
        return []
    clear = [v for v in verdicts if v.decision.outcome == "winner"]
    ties = sum(v.decision.outcome == "tie" for v in verdicts)
    parts = []
    for best, count in Counter(v.best for v in clear).most_common(3):
        ratios = sorted(math.exp(v.diff.mean) for v in clear if v.best == best)
        parts.append(f"{best} at {count} ({ratios[0]:.2f}x-{ratios[-1]:.2f}x the runner-up)")
    return [f"Training speed, over every timed round: fastest clearly at {len(clear)} of {len(verdicts)} "
            f"setting(s)" + (f": {'; '.join(parts)}" if parts else "") + f"; {ties} tie(s)."]


def relative_speed_sentences(verdicts: list[Verdict], options: dict) -> list[str]:
    """Per candidate, its training speed as a multiple of its counterpart's: where it is clearly
    slower or faster, by how much, and how many settings tie or stay open."""
    sentences = []
    for name in dict.fromkeys(v.best for v in verdicts):
        mine = [v for v in verdicts if v.best == name]
        clear = [v for v in mine if v.decision.outcome == "winner"]
        ratios = sorted(math.exp(v.diff.mean) for v in mine if v.diff is not None)
        parts = [f"{ratios[0]:.2f}x-{ratios[-1]:.2f}x" if len(ratios) > 1 else f"{ratios[0]:.2f}x"] if ratios else []
        slower = sum(v.diff.mean < 0 for v in clear)
        ties = sum(v.decision.outcome == "tie" for v in mine)
        sentences.append(f"{name} trains at {', '.join(parts) or 'an unknown multiple of'} {mine[0].runner_up}'s "
                         f"speed over {len(mine)} setting(s): clearly slower at {slower}, clearly faster at "
                         f"{len(clear) - slower}, equivalent at {ties}, open at {len(mine) - len(clear) - ties}.")
    return sentences


def summary_sentence(lead: list[Verdict], what: str) -> str:
    """A suite's answer in one sentence, for the report's first screen beside its forest plot: how
    many of its headline comparisons (``lead``; ``what`` they compare) are decided and how, the
    largest clear effect, and what the open ones would take. Empty when nothing was compared."""
    lead = [v for v in lead if v.runner_up is not None and v.diff is not None]
    if not lead:
        return ""
    outcomes = Counter(v.decision.outcome for v in lead)
    how = ", ".join(f"{n} {word}" for word, n in (("clear", outcomes["winner"]), ("equivalent", outcomes["tie"]),
                                                  ("all failed", outcomes["all failed"])) if n)
    text = (f"{what[:1].upper()}{what[1:]}: {sum(v.decided for v in lead)} of {len(lead)} decided"
            + (f" ({how})" if how else ""))
    winners = [v for v in lead if v.decision.outcome == "winner"]
    if winners:
        top = max(winners, key=lambda v: abs(v.diff.mean))
        effect = (f"{math.exp(top.diff.mean):.2f}x {top.runner_up}'s speed" if top.scale == "ratio"
                  else f"{top.diff.mean * 100:+.1f} points against {top.runner_up}")
        text += f"; largest clear effect: {top.best} {effect} at {setting_text(top.setting)}"
    open_ = [v for v in lead if not v.decided]
    if open_:
        needed = [v.decision.needed for v in open_ if v.decision.needed]
        text += f"; {len(open_)} open"
        if needed:
            text += (f" (about {statistics.median(needed):.0f} {open_[0].decision.samples} per candidate "
                     f"would settle half of them)")
    return text + "."


ONE_SETTING = "the one setting (no grid axes)"


def setting_text(setting: dict) -> str:
    """``k=v, ...``; the device only when it is not the CPU (most runs have no GPU); a suite without
    grid axes has one setting, said so."""
    text = ", ".join(f"{k}={_value(v)}" for k, v in setting.items()
                     if not (k == "device" and v == "cpu") and not pd.isna(v))
    return text or ONE_SETTING


def _value(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def listed(items: list[str], limit: int = LISTED) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")
