"""Numerical stability: where training losses stop being finite."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from report.figures.common import Palette
from bench.analysis.frame import is_axis, measured, varying


def nan_incidence(frame: pd.DataFrame, colours: Palette):
    """Fraction of non-finite training steps over epsilon x learning rate, one heatmap per normalizer."""
    if not is_axis(frame, "epsilon") or not varying(measured(frame), "learning_rate"):
        return None  # one learning rate: a single column, the summary table says it better

    def cells(subset):
        rate = (subset.pivot_table(index="epsilon", columns="learning_rate", values="nan_rate", aggfunc="mean")
                .sort_index(ascending=False))
        return rate, rate.map(lambda v: f"{v:.2f}")

    return _heatmap_per_normalizer(measured(frame).dropna(subset=["epsilon"]), colours, cells,
                                   "learning rate", "epsilon",
                                   "NaN incidence: fraction of training steps with a non-finite loss")


def nan_by_input_scale(frame: pd.DataFrame, colours: Palette):
    """Mean NaN rate by input scale and precision, one heatmap per normalizer (averaged over the
    suite's other axes), with the median first non-finite step printed under each rate."""
    if not is_axis(frame, "input_scale"):
        return None

    def cells(subset):
        rate = subset.pivot_table(index="precision", columns="input_scale", values="nan_rate", aggfunc="mean")
        first = subset.pivot_table(index="precision", columns="input_scale", values="first_nan_step",
                                   aggfunc="median").reindex_like(rate)
        return rate, rate.map(lambda v: f"{v:.2f}") + first.map(lambda v: "" if pd.isna(v) else f"\nstep {v:.0f}")

    return _heatmap_per_normalizer(measured(frame).dropna(subset=["input_scale"]), colours, cells,
                                   "input scale (x raw 0-16 pixels)", "precision",
                                   "NaN rate by input scale and precision (median first NaN step below)")


def _heatmap_per_normalizer(data: pd.DataFrame, colours: Palette, cells, xlabel: str, ylabel: str, title: str):
    """One NaN-rate heatmap (0 to 1) per normalizer label; ``cells(records)`` gives the rate table
    and its cell annotations. None when every rate is the same (a grid of zeros shows nothing)."""
    if data["nan_rate"].dropna().nunique() < 2:
        return None
    labels = sorted(data["normalizer"].unique())
    fig, axes = plt.subplots(1, len(labels), figsize=(3.5 * len(labels) + 1, 3.4), squeeze=False)
    for ax, label in zip(axes[0], labels):
        rate, notes = cells(data[data["normalizer"] == label])
        sns.heatmap(rate, vmin=0, vmax=1, cmap="rocket_r", annot=notes, fmt="", cbar=False, ax=ax,
                    xticklabels=[_tick(v) for v in rate.columns], yticklabels=[_tick(v) for v in rate.index])
        ax.set_title(label, color=colours.get(label, "black"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _tick(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)
