"""Forest plots: verdicts become rows in the plotted unit, the plot holds every row, the margin and
the no-effect line, tells decided rows from open ones, and embeds as one PNG data URI."""

import base64
import io
import math

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba
import pytest
from PIL import Image

from bench.analysis.comparisons import Verdict
from bench.analysis.stats import Decision, Difference
from report.figures import forest
from report.figures.forest import ForestRow, forest_figure, headline_plot, rows_from_verdicts


def verdict(setting, best="group", runner_up="batch", mean=-0.05, low=-0.08, high=-0.02, n=4,
            outcome="winner", needed=None, scale="difference", margin=0.01, samples="seeds"):
    diff = Difference(mean, low, high, low, high, n, 0.01, True)
    return Verdict(setting, "baseline", best, 0.9, runner_up, diff, Decision(outcome, needed, samples), margin, scale)


def test_accuracy_differences_become_points_and_speed_log_ratios_become_ratios():
    accuracy, speed = rows_from_verdicts([
        verdict({"device": "cpu", "batch_size": 4}),
        verdict({"device": "cpu", "normalizer": "batch"}, "backend=jax", "backend=tensorflow", math.log(1.5),
                math.log(1.2), math.log(2.0), n=900, outcome="open", needed=1200, scale="ratio", samples="rounds"),
    ])
    assert (accuracy.mean, accuracy.low, accuracy.high) == pytest.approx((-5.0, -8.0, -2.0))
    assert (accuracy.label, accuracy.group, accuracy.scale) == ("batch_size=4", "group − batch", "difference")
    assert accuracy.decided and accuracy.status == "clear" and accuracy.samples == 4 and accuracy.unit == "seeds"
    assert (speed.mean, speed.low, speed.high) == pytest.approx((1.5, 1.2, 2.0))
    assert (speed.group, speed.scale) == ("backend=jax / backend=tensorflow", "ratio")
    assert not speed.decided and speed.status == "open: ~1200 needed" and (speed.samples, speed.unit) == (900, "rounds")


def test_lone_candidates_are_left_out_and_a_suite_of_one_setting_labels_the_pair():
    lone = Verdict({"device": "cpu"}, "accuracy", "batch", 0.9, None, None, Decision("winner"), 0.01)
    rows = rows_from_verdicts([lone, verdict({"device": "cpu"}, outcome="tie")])
    assert [(r.label, r.group, r.status) for r in rows] == [("group − batch", "", "equivalent")]


def test_the_headline_plot_names_shared_settings_once_and_caps_its_rows():
    verdicts = [verdict({"device": "cpu", "normalizer": "batch", "epochs": e, "momentum": m})
                for e in (1, 5) for m in (0.9, 0.99, 0.999, 0.9999, 0.5, 0.7, 0.8)]
    plot = headline_plot(verdicts, "precise_bn")
    assert len(plot["rows"]) == forest.MAX_ROWS < len(verdicts)
    assert plot["title"] == f"precise_bn ({forest.MAX_ROWS} of {len(verdicts)} comparisons)\nat normalizer=batch"
    assert plot["rows"][0].label == "epochs=1, momentum=0.9"
    assert plot["margin"] == pytest.approx(1.0) and plot["scale"] == "difference"
    assert headline_plot([], "empty") is None


def test_rows_go_pair_by_pair_in_setting_order():
    verdicts = [verdict({"device": "cpu", "batch_size": b}, best=name) for b in (4, 32) for name in ("group", "layer")]
    rows = headline_plot(verdicts, "batch_size")["rows"]
    assert [(r.group, r.label) for r in rows] == [("group − batch", "batch_size=4"), ("group − batch", "batch_size=32"),
                                                 ("layer − batch", "batch_size=4"), ("layer − batch", "batch_size=32")]


def drawn(monkeypatch, rows, **kwargs):
    """Draw the plot and keep the matplotlib figure (instead of closing it) for inspection."""
    kept = []
    monkeypatch.setattr(forest, "png_base64", lambda fig, **_: kept.append(fig) or "")
    forest_figure(rows, "t", **kwargs)
    return kept[0]


def test_the_plot_holds_every_interval_the_margin_and_no_effect(monkeypatch):
    rows = [ForestRow("a", -57.8, -88.0, -27.0, "difference", True, "clear", 4, group="group − batch"),
            ForestRow("b", 3.0, -1.5, 7.5, "difference", False, "open: ~4 needed", 3, group="group − batch")]
    fig = drawn(monkeypatch, rows, margin=10.0)
    ax, right = fig.axes
    low, high = ax.get_xlim()
    assert low < -88.0 and high > 10.0  # every interval, and the band out to +10
    assert [t.get_text() for t in ax.get_yticklabels()] == ["group − batch", "a", "b"]
    assert [t.get_fontweight() for t in ax.get_yticklabels()][0] == "bold"
    assert [t.get_text() for t in right.get_yticklabels()] == ["", "clear\nn=4 seeds", "open: ~4 needed\nn=3 seeds"]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    decided, open_ = (to_rgba(m.get_markerfacecolor()) for m in markers)
    assert open_ == (1.0, 1.0, 1.0, 1.0) and decided != open_  # open: hollow
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["decided", "open", "margin ±10"]
    plt.close(fig)


def test_ratios_sit_on_a_log_axis_around_one(monkeypatch):
    rows = [ForestRow("x", 1.77, 1.28, 2.44, "ratio", True, "clear", 3)]
    fig = drawn(monkeypatch, rows, margin=0.05)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    assert low < 1 / 1.05 and high > 2.44
    assert fig.legends[0].get_texts()[-1].get_text() == "margin ±5%"
    plt.close(fig)


def test_the_figure_is_a_png_data_uri_of_a_fixed_width():
    uri = forest_figure([ForestRow("x", 1.0, float("nan"), float("nan"), "difference", False, "no interval", 1)],
                        "one sample", margin=1.0)
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.width == round(forest.WIDTH_IN * forest.DPI)


def test_bad_rows_are_refused():
    with pytest.raises(ValueError, match="at least one row"):
        forest_figure([], "t")
    mixed = [ForestRow("a", 1.0, 0.0, 2.0, "difference", True, "clear", 3),
             ForestRow("b", 1.5, 1.2, 2.0, "ratio", True, "clear", 3)]
    with pytest.raises(ValueError, match="scale"):
        forest_figure(mixed, "t")
