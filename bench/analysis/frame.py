"""Records (plain dicts) to one pandas DataFrame, the only input every figure and table reads."""

from __future__ import annotations

import json
from typing import Iterable

import pandas as pd

from bench.results.fields import FIELDS
from bench.results.records import current_names

TIMING_COLUMNS = {name: name.split("_")[0] for name, field in FIELDS.items() if field.type == "timing"}
TEXT_COLUMNS = tuple(name for name, field in FIELDS.items() if field.type == "text")
NUMERIC_COLUMNS = tuple(name for name, field in FIELDS.items() if field.numeric)
TIMING_STATS = ("median", "iqr", "stddev", "rounds")


def records_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per record, every schema field present, timing spreads flattened into columns
    (``train_median_s``, ``train_iqr_s``, ...), and every grid axis a column of its own (a record's
    ``axes`` values: ``shift_offset`` or ``dtype`` are axes whatever field, if any, stores them).
    Missing or malformed values become NaN, never errors."""
    rows, axis_names = [], []
    for record in map(current_names, records):
        row = {name: record.get(name) for name in FIELDS}
        row["backend"] = row["backend"] or "tensorflow"  # every case before the backend axis ran there
        axes = row["axes"] if isinstance(row["axes"], dict) else {}
        for axis, value in axes.items():
            if axis not in FIELDS:
                axis_names += [axis] if axis not in axis_names else []
                row[axis] = _hashable(value)
        for column in TEXT_COLUMNS:  # a hand-edited or corrupt record may hold numbers here
            if row[column] is not None and not isinstance(row[column], str):
                row[column] = str(row[column])
        for column, phase in TIMING_COLUMNS.items():
            timing = row.pop(column)
            timing = timing if isinstance(timing, dict) else {}
            for stat in TIMING_STATS:
                row[f"{phase}_{stat}_s" if stat != "rounds" else f"{phase}_rounds"] = timing.get(stat)
        rows.append(row)
    derived = [c for c in _columns() + ["accuracy_gap"] if c not in FIELDS]
    axis_names = [a for a in axis_names if a not in derived]  # an axis cannot shadow a computed column
    frame = pd.DataFrame(rows, columns=[*_columns(), *axis_names])
    for column in [*NUMERIC_COLUMNS, *(c for c in _columns() if c not in FIELDS)]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["accuracy_gap"] = frame["test_accuracy_training_mode"] - frame["test_accuracy"]
    return frame


def _columns() -> list[str]:
    columns = [c for c in FIELDS if c not in TIMING_COLUMNS]
    for phase in TIMING_COLUMNS.values():
        columns += [f"{phase}_{stat}_s" if stat != "rounds" else f"{phase}_rounds" for stat in TIMING_STATS]
    return columns


def _hashable(value):
    """Axis values become table keys: lists and mappings (a ``widths`` axis) as their JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def grid_axes(frame: pd.DataFrame) -> list[str]:
    """The grid axes used in these records, in first-seen order; each is a column (see records_frame).
    The Keras backend counts as one whenever it differs between records, also where each run set it
    in ``training`` (merged runs of one suite on two backends are never pooled)."""
    names: list[str] = []
    for axes in frame["axes"]:
        if isinstance(axes, dict):
            names += [a for a in axes if a not in names]
    if "backend" not in names and "backend" in frame.columns and frame["backend"].nunique() > 1:
        names.append("backend")
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
