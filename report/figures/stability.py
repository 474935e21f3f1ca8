"""Numerical stability: where training losses stop being finite."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from report.figures.common import Palette
from report.frame import is_axis, measured


def nan_incidence(frame: pd.DataFrame, colours: Palette):
    """Fraction of non-finite training steps over epsilon x learning rate, one heatmap per normalizer."""
    data = measured(frame).dropna(subset=["epsilon"])
    if not is_axis(frame, "epsilon"):
        return None
    labels = sorted(data["normalizer"].unique())
    fig, axes = plt.subplots(1, len(labels), figsize=(3.4 * len(labels) + 1, 3.4), squeeze=False)
    for ax, label in zip(axes[0], labels):
        table = (data[data["normalizer"] == label]
                 .pivot_table(index="epsilon", columns="learning_rate", values="nan_rate", aggfunc="mean")
                 .sort_index(ascending=False))
        sns.heatmap(table, vmin=0, vmax=1, cmap="rocket_r", annot=True, fmt=".2f", cbar=False, ax=ax,
                    xticklabels=[f"{v:g}" for v in table.columns], yticklabels=[f"{v:g}" for v in table.index])
        ax.set_title(label, color=colours.get(label, "black"))
        ax.set_xlabel("learning rate")
        ax.set_ylabel("epsilon")
    fig.suptitle("NaN incidence: fraction of training steps with a non-finite loss")
    fig.tight_layout()
    return fig


def nan_by_input_scale(frame: pd.DataFrame, colours: Palette):
    """Mean NaN rate by input scale and precision, one heatmap per normalizer (averaged over the
    suite's other axes), with the median first non-finite step printed under each rate."""
    data = measured(frame).dropna(subset=["input_scale"])
    if not is_axis(frame, "input_scale"):
        return None
    labels = sorted(data["normalizer"].unique())
    fig, axes = plt.subplots(1, len(labels), figsize=(3.6 * len(labels) + 1, 3.2), squeeze=False)
    for ax, label in zip(axes[0], labels):
        subset = data[data["normalizer"] == label]
        rate = subset.pivot_table(index="precision", columns="input_scale", values="nan_rate", aggfunc="mean")
        first = subset.pivot_table(index="precision", columns="input_scale", values="first_nan_step",
                                   aggfunc="median").reindex_like(rate)
        notes = rate.map(lambda v: f"{v:.2f}") + first.map(lambda v: "" if pd.isna(v) else f"\nstep {v:.0f}")
        sns.heatmap(rate, vmin=0, vmax=1, cmap="rocket_r", annot=notes, fmt="", cbar=False, ax=ax,
                    xticklabels=[f"{v:g}" for v in rate.columns])
        ax.set_title(label, color=colours.get(label, "black"))
        ax.set_xlabel("input scale (x raw 0-16 pixels)")
        ax.set_ylabel("precision")
    fig.suptitle("NaN rate by input scale and precision (median first NaN step below)")
    fig.tight_layout()
    return fig
