"""One function per figure. Each takes one suite's records and returns a matplotlib Figure, or None
when the suite's grid does not vary what the figure needs. Adding a figure is adding a function to
``FIGURES``."""

from __future__ import annotations

from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from report.frame import measured, varying  # noqa: E402

Palette = dict[str, tuple]


def palette(labels) -> Palette:
    """The same colour for a normalizer label in every figure of a report."""
    labels = sorted({str(label) for label in labels})
    colours = sns.color_palette("colorblind", n_colors=max(len(labels), 1))
    return dict(zip(labels, colours))


def accuracy_vs_batch_size(frame: pd.DataFrame, colours: Palette):
    """Inference-mode test accuracy against batch size, mean and standard deviation over seeds."""
    data = measured(frame)
    if not varying(data, "batch_size"):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=data, x="batch_size", y="test_accuracy", hue="normalizer", palette=colours,
                 style="device" if varying(data, "device") else None,
                 errorbar="sd", marker="o", err_style="bars", ax=ax)
    _accuracy_axes(ax, "batch size (examples, log2 scale)", "test accuracy, inference mode",
                   "Accuracy vs batch size (error bars: sd over seeds)")
    return fig


def _accuracy_axes(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Accuracy (0 to 1) against a batch size on a log-2 axis."""
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)


def nan_incidence(frame: pd.DataFrame, colours: Palette):
    """Fraction of non-finite training steps over epsilon x learning rate, one heatmap per normalizer."""
    data = measured(frame).dropna(subset=["epsilon"])
    if not varying(data, "epsilon"):
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


def throughput_vs_batch_size(frame: pd.DataFrame, colours: Palette):
    """Train and inference samples/s against batch size per device; bars show the timing IQR."""
    data = measured(frame).dropna(subset=["train_samples_per_sec"])
    if not varying(data, "batch_size"):
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


def momentum_gap(frame: pd.DataFrame, colours: Palette):
    """Training-mode minus inference-mode accuracy against BN momentum, one line per training length.

    A large gap means the moving averages had not caught up with the batch statistics when training
    stopped: the model is fine, its inference-time statistics are not.
    """
    data = measured(frame).dropna(subset=["momentum"])
    if not varying(data, "momentum"):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    data = data.assign(training=data["epochs"].map(lambda e: f"{int(e)} epoch(s)"))
    order = sorted(data["training"].unique(), key=lambda s: int(s.split()[0]))
    common = dict(x="momentum", hue="training", hue_order=order, marker="o", errorbar="sd",
                  err_style="bars", palette="viridis")
    sns.lineplot(data=data, y="test_accuracy", ax=axes[0], **common)
    axes[0].set_ylabel("test accuracy, inference mode")
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("Inference accuracy vs BN momentum")
    sns.lineplot(data=data, y="accuracy_gap", ax=axes[1], **common)
    axes[1].axhline(0, color="grey", linewidth=0.8)
    axes[1].set_ylabel("accuracy gap (training mode - inference mode)")
    axes[1].set_title("Train/inference gap vs BN momentum")
    for ax in axes:
        ax.set_xscale("logit")
        ax.set_xlabel("BatchNorm momentum (logit scale)")
        ticks = sorted(data["momentum"].unique())
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    fig.tight_layout()
    return fig


def training_flag_effect(frame: pd.DataFrame, colours: Palette):
    """Test accuracy with training=False and with training=True against the test batch size."""
    data = measured(frame)
    if not varying(data, "eval_batch_size"):
        return None
    long = pd.concat([
        data.assign(mode="training=False (moving averages)", accuracy=data["test_accuracy"]),
        data.assign(mode="training=True (batch statistics)", accuracy=data["test_accuracy_training_mode"]),
    ])
    fig, ax = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=long, x="eval_batch_size", y="accuracy", hue="normalizer", palette=colours,
                 style="mode", marker="o", errorbar="sd", err_style="bars", ax=ax)
    _accuracy_axes(ax, "test batch size (examples, log2 scale)", "test accuracy",
                   "Evaluating with training=True vs training=False")
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


FIGURES: list[Callable[[pd.DataFrame, Palette], object]] = [
    accuracy_vs_batch_size, nan_incidence, momentum_gap, training_flag_effect, throughput_vs_batch_size,
    accuracy_vs_throughput,
]


def close(fig) -> None:
    plt.close(fig)


__all__ = ["FIGURES", "palette", "close"]
