"""What every figure shares: Agg backend, one colour per normalizer label, accuracy axes, PNG embedding."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

Palette = dict[str, tuple]


def palette(labels) -> Palette:
    """The same colour for a normalizer label in every figure of a report."""
    labels = sorted({str(label) for label in labels})
    colours = sns.color_palette("colorblind", n_colors=max(len(labels), 1))
    return dict(zip(labels, colours))


def accuracy_axes(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Accuracy (0 to 1) against a batch size on a log-2 axis."""
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)


def close(fig) -> None:
    plt.close(fig)


def png_base64(fig, dpi: int = 96, tight: bool = True) -> str:
    """The figure as base64 PNG text, to embed in the one-file report as a data URI; closes it.
    ``tight`` crops to the drawn content (figures with a fixed layout keep their exact size)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
