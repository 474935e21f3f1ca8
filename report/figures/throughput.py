"""Throughput figures: samples/s per device, with the timing spread."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from report.figures.common import Palette
from bench.analysis.frame import is_axis, measured


def throughput_vs_batch_size(frame: pd.DataFrame, colours: Palette):
    """Train and inference samples/s against batch size per device; bars show the timing IQR."""
    data = measured(frame).dropna(subset=["train_samples_per_sec"])
    if data.empty or not is_axis(frame, "batch_size"):
        return None
    devices = sorted(data["device"].unique())
    fig, axes = plt.subplots(len(devices), 2, figsize=(10, 3.6 * len(devices)), squeeze=False)
    for row, device in zip(axes, devices):
        for ax, phase in zip(row, ("train", "infer")):
            subset = data[data["device"] == device]
            for label, group in subset.groupby("normalizer"):
                summary = _throughput_summary(group, phase)
                ax.errorbar(summary["batch_size"], summary["rate"], yerr=[summary["low"], summary["high"]],
                            label=label, color=colours.get(label), marker="o", capsize=3)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("batch size (examples, log2 scale)")
            ax.set_ylabel(f"{phase} samples/s ({device})")
            ax.set_title(f"{'Training step' if phase == 'train' else 'Inference step'} throughput, {device}")
            ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _throughput_summary(group: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Per batch size: median samples/s over seeds, with error bars from the timing quartiles."""
    rows = []
    for batch, sub in group.groupby("batch_size"):
        median_s = sub[f"{phase}_median_s"].median()
        iqr_s = sub[f"{phase}_iqr_s"].median()
        rate = batch / median_s
        fast = batch / max(median_s - iqr_s / 2, 1e-12)
        slow = batch / (median_s + iqr_s / 2)
        rows.append({"batch_size": batch, "rate": rate, "low": rate - slow, "high": fast - rate})
    return pd.DataFrame(rows)


def roofline(frame: pd.DataFrame, colours: Palette):
    """Layer suites: achieved GB/s (minimum bytes moved / median time) against the bytes each call
    moves, with the machine's STREAM-style ceiling (solid) and TensorFlow's elementwise rate (the
    framework ceiling, dashed) measured next to the cases; one panel per pass."""
    data = measured(frame).dropna(subset=["achieved_gb_per_s"])
    if data.empty:
        return None
    data = data.assign(megabytes=data["bytes_moved"] / 1e6,
                       compiled=data["jit_compile"].map({True: "XLA", False: "no XLA"}))
    passes = sorted(data["pass"].dropna().unique())
    fig, axes = plt.subplots(1, len(passes), figsize=(6.2 * len(passes), 4.4), squeeze=False)
    for ax, pass_ in zip(axes[0], passes):
        subset = data[data["pass"] == pass_]
        sns.scatterplot(data=subset, x="megabytes", y="achieved_gb_per_s", hue="normalizer", palette=colours,
                        style="compiled", s=60, alpha=0.85, ax=ax)
        for column, style, name in (("bandwidth_gb_per_s", "-", "ceiling"), ("framework_gb_per_s", "--", "framework")):
            for device, limit in subset.groupby("device")[column].median().dropna().items():
                ax.axhline(limit, color="black", linestyle=style, linewidth=1)
                ax.annotate(f"{device} {name} {limit:.1f} GB/s", (0.01, limit), xycoords=("axes fraction", "data"),
                            textcoords="offset points", xytext=(0, 3), fontsize="small")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("minimum bytes moved per call (MB, log scale)")
        ax.set_ylabel("achieved GB/s (log scale)")
        ax.set_title(f"Roofline: {pass_.replace('_', ' + ')}")
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
