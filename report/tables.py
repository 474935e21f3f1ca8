"""Tables as lists of display rows (strings), so the template escapes every cell."""

from __future__ import annotations

import math

import pandas as pd

from report.frame import grid_axes, measured

RECORD_COLUMNS = [
    ("case_id", "case"), ("status", "status"), ("test_accuracy", "acc (inference)"),
    ("test_accuracy_training_mode", "acc (training mode)"), ("nan_rate", "NaN rate"),
    ("train_samples_per_sec", "train samples/s"), ("infer_samples_per_sec", "infer samples/s"),
    ("case_seconds", "case s"), ("error", "error / reason"),
]


# Columns a suite's summary shows only when its records hold them (fine-tuning, divergence).
OPTIONAL_ACCURACIES = [
    ("source_accuracy_before", "acc original, before"), ("target_accuracy_before", "acc shifted, before"),
    ("source_accuracy_after", "acc original, after"), ("test_accuracy_precise_bn", "acc PreciseBN"),
]

ACCURACY_LABELS = dict([*RECORD_COLUMNS[2:4], *OPTIONAL_ACCURACIES])


def suite_summary(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """One row per setting (device, normalizer, grid axes), aggregated over seeds."""
    axes = grid_axes(frame)
    keys = ["device", "normalizer", *axes]
    data = measured(frame)
    optional = [(c, title) for c, title in OPTIONAL_ACCURACIES if data[c].notna().any()]
    with_first_nan = data["first_nan_step"].notna().any()
    header = [*keys, "seeds", "acc (inference)", "acc (training mode)", *(t for _, t in optional),
              "NaN rate", *(["first NaN step"] if with_first_nan else []), "train samples/s",
              "infer samples/s"]
    rows = []
    if data.empty:
        return header, rows
    for key, group in data.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        first_nan = [fmt(group["first_nan_step"].median(), 0)] if with_first_nan else []
        rows.append([*(fmt(k) for k in key), str(len(group)),
                     mean_sd(group["test_accuracy"]), mean_sd(group["test_accuracy_training_mode"]),
                     *(mean_sd(group[c]) for c, _ in optional),
                     fmt(group["nan_rate"].mean()), *first_nan, fmt(group["train_samples_per_sec"].median(), 0),
                     fmt(group["infer_samples_per_sec"].median(), 0)])
    return header, rows


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    return {status: int(n) for status, n in frame["status"].fillna("unknown").value_counts().items()}


def record_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [title for _, title in RECORD_COLUMNS]
    rows = [[fmt(row[column]) for column, _ in RECORD_COLUMNS] for _, row in frame.iterrows()]
    return header, rows


def mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return ""
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def comparison_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Per-case changes between two runs (from report.compare.compare), largest training-throughput
    drop first; throughput relative to each case's machine-speed reference where recorded."""
    header = ["case", "acc before", "acc after", "acc change", "train samples/s change", "p (rounds)",
              "infer samples/s change", "p (rounds) "]
    table = table.sort_values("train_samples_per_sec_machine_change", na_position="last")
    rows = [[row["case_id"], fmt(row["test_accuracy_before"]), fmt(row["test_accuracy_after"]),
             fmt(row["test_accuracy_change"]), percent(row["train_samples_per_sec_machine_change"]),
             fmt(row["train_samples_per_sec_p"], 2), percent(row["infer_samples_per_sec_machine_change"]),
             fmt(row["infer_samples_per_sec_p"], 2)] for _, row in table.iterrows()]
    return header, rows


def percent(value) -> str:
    return "" if value is None or value != value else f"{value:+.1%}"


def fmt(value, digits: int = 3) -> str:
    """A table cell: floats rounded, NaN and None empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if digits == 0:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if abs(value) < 1e-2 and value != 0 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)
