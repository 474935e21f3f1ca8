"""One function per figure. Each takes one suite's records and returns a matplotlib Figure, or None
when the suite's records do not hold what the figure needs. Adding a figure is adding a function to
``FIGURES``."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from report.figures.accuracy import accuracy_vs_batch_size, accuracy_vs_throughput, placement_effect
from report.figures.batch_norm import (fine_tuning_effect, momentum_gap, moving_statistics,
                                       training_flag_effect)
from report.figures.common import Palette, close, palette
from report.figures.stability import nan_by_input_scale, nan_incidence
from report.figures.throughput import roofline, throughput_vs_batch_size

FIGURES: list[Callable[[pd.DataFrame, Palette], object]] = [
    accuracy_vs_batch_size, placement_effect, fine_tuning_effect, nan_incidence, nan_by_input_scale,
    momentum_gap, moving_statistics, training_flag_effect, throughput_vs_batch_size, accuracy_vs_throughput,
    roofline,
]

__all__ = ["FIGURES", "palette", "close"]
