"""Records (plain dicts) to one pandas DataFrame, the only input every figure and table reads."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from bench.records import FIELDS

TIMING_COLUMNS = {"train_step_seconds": "train", "infer_step_seconds": "infer", "layer_step_seconds": "layer"}
TEXT_COLUMNS = ("suite", "suite_kind", "normalizer", "kind", "device", "status", "case_id", "error")


def records_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per record, every schema field present, timing spreads flattened into columns
    (``train_median_s``, ``train_iqr_s``, ...). Missing or malformed values become NaN, never errors."""
    rows = []
    for record in records:
        row = {name: record.get(name) for name in FIELDS}
        for column in TEXT_COLUMNS:  # a hand-edited or corrupt record may hold numbers here
            if row[column] is not None and not isinstance(row[column], str):
                row[column] = str(row[column])
        for column, phase in TIMING_COLUMNS.items():
            timing = row.pop(column)
            timing = timing if isinstance(timing, dict) else {}
            for stat in ("median", "iqr", "stddev", "rounds"):
                row[f"{phase}_{stat}_s" if stat != "rounds" else f"{phase}_rounds"] = timing.get(stat)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_columns())
    numeric = ["batch_size", "eval_batch_size", "epsilon", "momentum", "groups", "learning_rate", "epochs", "seed",
               "input_scale", "test_accuracy", "test_accuracy_training_mode", "source_accuracy_before",
               "target_accuracy_before", "source_accuracy_after", "nan_rate", "first_nan_step", "steps",
               "final_loss", "train_samples_per_sec", "infer_samples_per_sec", "train_seconds",
               "case_seconds", "train_median_s", "train_iqr_s", "train_stddev_s", "train_rounds",
               "infer_median_s", "infer_iqr_s", "infer_stddev_s", "infer_rounds", "layer_median_s",
               "layer_iqr_s", "layer_stddev_s", "layer_rounds", "layer_samples_per_sec", "timing_cv",
               "bytes_moved", "achieved_gb_per_s", "bandwidth_gb_per_s", "bandwidth_fraction",
               "output_max_abs_diff", "output_max_rel_diff", "gradient_max_abs_diff", "gradient_max_rel_diff"]
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["accuracy_gap"] = frame["test_accuracy_training_mode"] - frame["test_accuracy"]
    return frame


def _columns() -> list[str]:
    columns = [c for c in FIELDS if c not in TIMING_COLUMNS]
    for phase in TIMING_COLUMNS.values():
        columns += [f"{phase}_median_s", f"{phase}_iqr_s", f"{phase}_stddev_s", f"{phase}_rounds"]
    return columns


def grid_axes(frame: pd.DataFrame) -> list[str]:
    """The grid axes used in these records, in first-seen order (only those that are columns)."""
    names: list[str] = []
    for axes in frame["axes"]:
        if isinstance(axes, dict):
            names += [a for a in axes if a not in names]
    return [a for a in names if a in frame.columns]


def varying(frame: pd.DataFrame, column: str) -> bool:
    """Whether a suite's records take more than one value of ``column`` (a figure needs a real axis)."""
    return frame[column].dropna().nunique() > 1


def is_axis(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` is a grid axis of these records taking several values: a figure about an
    axis needs it varied on purpose, not as a side effect (eval batch size follows batch size)."""
    return column in grid_axes(frame) and varying(measured(frame), column)


def measured(frame: pd.DataFrame) -> pd.DataFrame:
    """Cases that trained (ok or diverged); failed and skipped ones have no numbers to plot."""
    return frame[frame["status"].isin(["ok", "nan"])]
