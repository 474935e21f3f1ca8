"""BatchNorm's own pitfalls: moving averages, the training flag, fine-tuning."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas as pd
import seaborn as sns

from report.figures.common import Palette, accuracy_axes
from bench.analysis.frame import is_axis, measured


def momentum_gap(frame: pd.DataFrame, colours: Palette):
    """Training-mode minus inference-mode accuracy against BN momentum, one line per training length.

    A large gap means the moving averages had not caught up with the batch statistics when training
    stopped: the model is fine, its inference-time statistics are not.
    """
    data = measured(frame).dropna(subset=["momentum"])
    if not is_axis(frame, "momentum"):
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
    if not is_axis(frame, "eval_batch_size"):
        return None
    long = pd.concat([
        data.assign(mode="training=False (moving averages)", accuracy=data["test_accuracy"]),
        data.assign(mode="training=True (batch statistics)", accuracy=data["test_accuracy_training_mode"]),
    ])
    fig, ax = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=long, x="eval_batch_size", y="accuracy", hue="normalizer", palette=colours,
                 style="mode", marker="o", errorbar="sd", err_style="bars", ax=ax)
    accuracy_axes(ax, "test batch size (examples, log2 scale)", "test accuracy",
                   "Evaluating with training=True vs training=False")
    return fig


def moving_statistics(frame: pd.DataFrame, colours: Palette):
    """The statistics monitor: per epoch, how far each BN layer's moving averages are from the
    training set's statistics (variance ratio 1 and mean error 0 when converged), by momentum."""
    rows = [{**entry, "momentum": record.momentum, "normalizer": record.normalizer}
            for record in measured(frame).itertuples()
            if isinstance(record.bn_statistics, list) and record.epochs == frame["epochs"].max()
            for entry in record.bn_statistics if isinstance(entry, dict)]
    data = pd.DataFrame(rows)
    if data.empty or data["epoch"].nunique() < 2:
        return None
    hue = "momentum" if data["momentum"].nunique() > 1 else "normalizer"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    common = dict(data=data, x="epoch", hue=hue, style="layer", marker="o", errorbar="sd",
                  palette="viridis" if hue == "momentum" else colours)
    sns.lineplot(y="variance_ratio", ax=axes[0], **common)
    axes[0].axhline(1, color="grey", linewidth=0.8)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("moving variance / training-set variance")
    axes[0].set_title("BN moving variance vs the real one (1 = converged)")
    sns.lineplot(y="mean_error", ax=axes[1], **common)
    axes[1].set_ylabel("|moving mean - training-set mean| (in sds)")
    axes[1].set_title("BN moving mean error")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


FINE_TUNING_MEASURES = {
    "source_accuracy_before": "original data, before", "target_accuracy_before": "shifted data, before",
    "test_accuracy": "shifted data, after", "source_accuracy_after": "original data, after",
}


def fine_tuning_effect(frame: pd.DataFrame, colours: Palette):
    """Accuracy on the original and the shifted data, before and after fine-tuning, for each way of
    treating BN; one panel per model and shift."""
    data = measured(frame).dropna(subset=["fine_tune_bn", "source_accuracy_after"])
    if data.empty:
        return None
    long = data.melt(id_vars=["model", "fine_tune_bn", "axes"], value_vars=list(FINE_TUNING_MEASURES),
                     var_name="measure", value_name="accuracy")
    long["measure"] = long["measure"].map(FINE_TUNING_MEASURES)
    long["shift"] = long["axes"].map(lambda axes: ", ".join(
        f"{k}={v:g}" for k, v in (axes or {}).items() if k.startswith("shift_")) or "shift")
    panels = sorted(set(zip(long["model"], long["shift"])))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 4.2), squeeze=False)
    for ax, (model, shift) in zip(axes[0], panels):
        sns.barplot(data=long[(long["model"] == model) & (long["shift"] == shift)], x="fine_tune_bn",
                    y="accuracy", hue="measure", hue_order=list(FINE_TUNING_MEASURES.values()),
                    errorbar="sd", palette="Paired", ax=ax)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("BN during fine-tuning")
        ax.set_ylabel("test accuracy, inference mode")
        ax.set_title(f"{model}, {shift}")
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    return fig
