"""Forest plots (estimation plots) of comparisons: one row per comparison, its estimate with the 95%
interval, the margin within which two candidates count as equivalent shaded, decided rows told apart
from open ones, and the samples each used. Any kind of comparison can be drawn: it only has to become
:class:`ForestRow` objects (:func:`rows_from_verdicts` does that for headline verdicts).

Why a forest plot: it answers "who wins where, by how much, how sure" at a glance, the way
estimation statistics recommend (Cumming, *Understanding the New Statistics*, 2012; Ho et al.,
"Moving beyond P values: data analysis with estimation graphics", Nature Methods 16, 2019).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from bench.analysis.comparisons import Verdict
from bench.analysis.sentences import ONE_SETTING, setting_text
from bench.analysis.stats import MAX_ROUNDS, MAX_SEEDS
from report.figures.common import png_base64

SCALES = ("difference", "ratio")
MAX_ROWS = 12  # rows drawn per figure; the findings table lists every comparison
WIDTH_IN = 4.0  # inches: about 380 px in the report, three figures side by side at 1200 px
DPI = 192  # twice the report's 96 so labels stay crisp on high-density screens
LABEL_WIDTH = 26  # characters per label line before it wraps
FONT = 8.5  # points: about 11 px in the report (the PNG is drawn at twice the size it is shown)
DECIDED, OPEN = "#0173b2", "#de8f05"  # seaborn "colorblind": blue, orange


@dataclass(frozen=True)
class ForestRow:
    """One comparison in a forest plot.

    Attributes:
        label: what is compared (wrapped to fit; newlines are kept).
        mean: the estimate, in the plotted unit: a difference (e.g. accuracy points) or a ratio
            (e.g. 1.25 = 25% faster).
        low, high: its 95% interval in the same unit (NaN when there is none, e.g. one sample).
        scale: ``"difference"`` (no effect at 0, linear axis) or ``"ratio"`` (no effect at 1, log axis).
        decided: whether the comparison has an answer (a clear winner, an equivalence, all failed);
            decided rows are filled blue, open ones hollow orange.
        status: the short verdict printed at the right (``clear``, ``equivalent``, ``open: ~6 seeds``).
        samples: how many samples the interval rests on (seeds, or timed rounds).
        unit: what a sample is, printed with ``samples``.
        group: rows that share it are drawn under one header line (e.g. the pair compared).
    """

    label: str
    mean: float
    low: float
    high: float
    scale: str
    decided: bool
    status: str
    samples: int
    unit: str = "seeds"
    group: str = ""


def forest_figure(rows: Sequence[ForestRow], title: str, margin: float | None = None,
                  scale: str | None = None, xlabel: str | None = None) -> str:
    """The rows as a forest plot, returned as a ``data:image/png;base64,...`` URI for an ``<img>``.

    Args:
        rows: the comparisons, drawn top to bottom in the given order; consecutive rows with the
            same non-empty ``group`` go under one bold header line.
        title: the figure's title (the suite or the claim).
        margin: the equivalence margin, shaded: for ``"difference"`` a half-width in the plotted
            unit (1.0 shades -1..1); for ``"ratio"`` a relative one (0.05 shades 1/1.05..1.05, the
            symmetric log-scale band :func:`bench.analysis.stats.decide` tests). None: no band.
        scale: ``"difference"`` or ``"ratio"``; by default the rows' own (they must all agree).
        xlabel: the x axis's label; by default it names the scale.

    Raises:
        ValueError: no rows, an unknown scale, or rows of mixed scales.
    """
    if not rows:
        raise ValueError("a forest plot needs at least one row")
    scale = scale or rows[0].scale
    if scale not in SCALES or any(row.scale != scale for row in rows):
        raise ValueError(f"every row's scale must be the figure's, one of {SCALES}: got "
                         f"{sorted({row.scale for row in rows} | {scale})}")
    ratio = scale == "ratio"
    slots: list[tuple[str, ForestRow | None]] = []  # (label, row); None: a group's header line
    for i, row in enumerate(rows):
        if row.group and (i == 0 or rows[i - 1].group != row.group):
            slots.append((_wrap(row.group), None))
        slots.append((_wrap(row.label), row))
    y, ys = 0.0, []
    for label, _ in slots:
        height = max(0.32, 0.17 + 0.15 * label.count("\n"))  # inches: room for the two status lines
        ys.append(y + height / 2)
        y += height
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.1 + 0.18 * title.count("\n") + y), layout="constrained")
    band = _band(margin, ratio)
    if band:
        ax.axvspan(*band, color="#d9d9d9", alpha=0.7, lw=0, zorder=0)
    ax.axvline(1.0 if ratio else 0.0, color="#555555", lw=0.8, ls="--", zorder=1)
    for (_, row), where in zip(slots, ys):
        if row is None:
            continue
        colour = DECIDED if row.decided else OPEN
        if _finite(row.low) and _finite(row.high):
            ax.plot([row.low, row.high], [where, where], color=colour, lw=1.8, zorder=2, solid_capstyle="butt")
        ax.plot([row.mean], [where], "o", ms=6, zorder=3, color=colour,
                markerfacecolor=colour if row.decided else "white", markeredgewidth=1.6)
    ax.set_ylim(y, 0)
    ax.set_yticks(ys, [label for label, _ in slots], fontsize=FONT)
    for tick, (_, row) in zip(ax.get_yticklabels(), slots):
        if row is None:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    right = ax.twinx()
    right.set_ylim(y, 0)
    right.set_yticks(ys, ["" if row is None else f"{row.status}\nn={row.samples} {row.unit}" for _, row in slots],
                     fontsize=FONT - 1, color="#333333")
    right.tick_params(axis="y", length=0)
    _x_axis(ax, rows, band, ratio)
    ax.set_xlabel(_wrap(xlabel or ("ratio (log scale; 1x = no difference)" if ratio else "difference"), 60),
                  fontsize=FONT)
    ax.tick_params(axis="x", labelsize=FONT - 0.5)
    fig.suptitle(_wrap(title, 56), x=0.01, ha="left", fontsize=FONT + 1.5, fontweight="bold")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
        right.spines[side].set_visible(False)
    handles = [Line2D([], [], color=DECIDED, marker="o", lw=1.8, label="decided"),
               Line2D([], [], color=OPEN, marker="o", markerfacecolor="white", lw=1.8, label="open")]
    if band:
        handles.append(Patch(color="#d9d9d9", label=f"margin ±{margin:.0%}" if ratio else f"margin ±{margin:g}"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=FONT - 0.5,
               frameon=False)
    return "data:image/png;base64," + png_base64(fig, dpi=DPI, tight=False)


def rows_from_verdicts(verdicts: Sequence[Verdict], shared: dict | None = None) -> list[ForestRow]:
    """One row per verdict that compares two candidates: accuracy differences in points (x100),
    speed as the ratio exp(mean) with exp() of the log interval. The row's group is the pair
    ("group − batch"; "jax / tensorflow" for ratios), its label the setting less the ``shared``
    axis values (those every row has, said once in the title); where nothing is left, the pair is
    the label."""
    rows = []
    for v in verdicts:
        if v.runner_up is None or v.diff is None:
            continue
        d, ratio = v.diff, v.scale == "ratio"
        values = ([math.exp(x) for x in (d.mean, d.low95, d.high95)] if ratio
                  else [x * 100 for x in (d.mean, d.low95, d.high95)])
        setting = _setting({k: value for k, value in v.setting.items() if k not in (shared or {})})
        label, group = (setting, _pair(v)) if setting else (_pair(v), "")  # one setting: the pair is the label
        rows.append(ForestRow(label, *values, "ratio" if ratio else "difference", v.decided, _status(v), d.n,
                              v.decision.samples, group))
    return rows


def verdicts_figure(verdicts: Sequence[Verdict], title: str) -> str | None:
    """A suite's headline verdicts as one forest plot (data URI), or None when none compares two
    candidates (:func:`headline_plot` lays it out)."""
    plot = headline_plot(verdicts, title)
    return forest_figure(**plot) if plot else None


def headline_plot(verdicts: Sequence[Verdict], title: str) -> dict | None:
    """:func:`forest_figure`'s arguments for headline verdicts: rows go pair by pair, in setting
    order; at most MAX_ROWS are drawn (the title says how many of how many); axis values every row
    shares are named once, in the title; the margin is the verdicts' own."""
    compared = [v for v in verdicts if v.runner_up is not None and v.diff is not None]
    if not compared:
        return None
    order = list(dict.fromkeys(_pair(v) for v in compared))
    compared = sorted(compared, key=lambda v: order.index(_pair(v)))  # stable: settings keep their order
    shown = compared[:MAX_ROWS]
    shared = dict(set.intersection(*(set(v.setting.items()) for v in compared))) if len(compared) > 1 else {}
    rows = rows_from_verdicts(shown, shared)
    ratio = rows[0].scale == "ratio"
    if len(compared) > len(shown):
        title += f" ({len(shown)} of {len(compared)} comparisons)"
    if _setting(shared):
        title += f"\nat {_setting(shared)}"
    return {"rows": rows, "title": title, "margin": compared[0].margin if ratio else compared[0].margin * 100,
            "scale": rows[0].scale,
            "xlabel": "speed ratio, 95% interval (log scale)" if ratio else "difference, 95% interval (accuracy points)"}


def _wrap(text: str, width: int = LABEL_WIDTH) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def _pair(v: Verdict) -> str:
    return f"{v.best} {'/' if v.scale == 'ratio' else '−'} {v.runner_up}"


def _setting(setting: dict) -> str:
    text = setting_text(setting)
    return "" if text == ONE_SETTING else text


def _status(v: Verdict) -> str:
    """The verdict in a few words (the table has the full text)."""
    decision = v.decision
    if decision.outcome == "winner":
        return "clear"
    if decision.outcome == "tie":
        return "equivalent"
    if decision.outcome == "all failed":
        return "all failed"
    if decision.outcome == "one sample":
        return "no interval"
    if decision.needed:
        return f"open: ~{decision.needed} needed"
    return f"open: >{MAX_SEEDS if decision.samples == 'seeds' else MAX_ROUNDS} needed"


def _band(margin: float | None, ratio: bool) -> tuple[float, float] | None:
    if margin is None or not _finite(margin) or margin <= 0:
        return None
    return (1 / (1 + margin), 1 + margin) if ratio else (-margin, margin)


def _x_axis(ax, rows: Sequence[ForestRow], band, ratio: bool) -> None:
    """Limits that hold every interval, the band and the no-effect line; ratios on a log axis
    labelled as multiples (0.5x, 1x, 2x)."""
    values = [x for row in rows for x in (row.mean, row.low, row.high) if _finite(x) and (x > 0 or not ratio)]
    values += list(band or ()) + [1.0 if ratio else 0.0]
    low, high = min(values), max(values)
    if ratio:
        ax.set_xscale("log")
        pad = (high / low) ** 0.06
        ax.set_xlim(low / pad, high * pad)
        ax.xaxis.set_major_locator(LogLocator(base=2))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
    else:
        pad = (high - low) * 0.06 or 1.0
        ax.set_xlim(low - pad, high + pad)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
