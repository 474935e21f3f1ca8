"""Accuracy figures: against batch size, placement and throughput."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from report.figures.common import Palette, accuracy_axes
from bench.analysis.frame import is_axis, measured, varying


def accuracy_vs_batch_size(frame: pd.DataFrame, colours: Palette):
    """Inference-mode test accuracy against batch size, mean and standard deviation over seeds; one
    panel per model family when the suite varies it."""
    data = measured(frame)
    if not is_axis(frame, "batch_size"):
        return None
    models = sorted(data["model"].dropna().unique()) if varying(data, "model") else [None]
    fig, axes = plt.subplots(1, len(models), figsize=(6.4 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        subset = data if model is None else data[data["model"] == model]
        sns.lineplot(data=subset, x="batch_size", y="test_accuracy", hue="normalizer", palette=colours,
                     style="device" if varying(data, "device") else None,
                     errorbar="sd", marker="o", err_style="bars", ax=ax)
        accuracy_axes(ax, "batch size (examples, log2 scale)", "test accuracy, inference mode",
                      "Accuracy vs batch size" + (f", {model}" if model else "") + " (bars: sd over seeds)")
    fig.tight_layout()
    return fig


def placement_effect(frame: pd.DataFrame, colours: Palette):
    """Inference accuracy with the normalizer before vs after the activation, per model family."""
    data = measured(frame).dropna(subset=["placement"])
    if not is_axis(frame, "placement"):
        return None
    models = sorted(data["model"].dropna().unique())
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        sns.barplot(data=data[data["model"] == model], x="normalizer", y="test_accuracy", hue="placement",
                    hue_order=["before", "after"], errorbar="sd", palette="Set2", ax=ax)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("test accuracy, inference mode")
        ax.set_title(f"Normalizer before vs after the ReLU, {model} (bars: sd over seeds)")
    fig.tight_layout()
    return fig


def accuracy_vs_throughput(frame: pd.DataFrame, colours: Palette):
    """The trade-off: inference-mode accuracy against training throughput, one point per case."""
    data = measured(frame).dropna(subset=["test_accuracy", "train_samples_per_sec"])
    if len(data) < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    sns.scatterplot(data=data, x="train_samples_per_sec", y="test_accuracy", hue="normalizer",
                    palette=colours, style="device" if varying(data, "device") else None,
                    alpha=0.75, ax=ax)
    ax.set_xscale("log")
    ax.set_xlabel("training throughput (samples/s, log scale)")
    ax.set_ylabel("test accuracy, inference mode")
    ax.set_ylim(0, 1.02)
    ax.set_title("Accuracy vs throughput (one point per case)")
    return fig
