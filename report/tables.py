"""Tables as lists of display rows (strings), so the template escapes every cell."""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.frame import grid_axes, measured
from bench.analysis.compare import compared_fields
from bench.results.fields import FIELDS, shown_in

def suite_summary(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """One row per setting (device, normalizer, grid axes), aggregated over seeds; a column per
    record field shown in the summary (``bench.results.fields``) that these records hold."""
    axes = grid_axes(frame)
    keys = ["device", "normalizer", *axes]
    data = measured(frame)
    columns = [name for name in shown_in("summary") if name in data.columns and data[name].notna().any()]
    header = [*keys, "seeds", *(FIELDS[name].title for name in columns)]
    rows = []
    if data.empty:
        return header, rows
    for key, group in data.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        rows.append([*(fmt(k) for k in key), str(len(group)), *(_aggregate(name, group[name]) for name in columns)])
    return header, rows


def _aggregate(name: str, values: pd.Series) -> str:
    """Over a setting's seeds: accuracies as mean ± sd, rates and counts as the median, the rest as the mean."""
    field = FIELDS[name]
    if field.is_accuracy:
        return mean_sd(values)
    if field.is_rate or field.type == "integer":
        return fmt(values.median(), 0)
    return fmt(values.mean())


def run_summary(frame: pd.DataFrame) -> dict:
    """What the header leads with: the cases that ran (trained to the end, diverged) and failed,
    apart from those that could not run on this machine (skipped: no GPU, a backend not installed),
    grouped by the reason, most common first."""
    status = frame["status"].fillna("unknown")
    skipped = frame[status == "skipped"]
    reasons = skipped["error"].fillna("no reason recorded").value_counts()
    return {"ran": int(status.isin(["ok", "nan"]).sum()), "ok": int((status == "ok").sum()),
            "diverged": int((status == "nan").sum()), "failed": int((status == "failed").sum()),
            "not_run": int(len(skipped)), "reasons": [(str(r), int(n)) for r, n in reasons.items()]}


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    return {status: int(n) for status, n in frame["status"].fillna("unknown").value_counts().items()}


def record_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Every case, one column per record field shown in the case table: its identity (the first two
    such fields, case and status), then the measurements, then the other text (the error last)."""
    shown = shown_in("cases")
    columns = shown[:2] + sorted(shown[2:], key=lambda name: FIELDS[name].type == "text")
    header = [FIELDS[name].title for name in columns]
    rows = [[fmt(row[column]) for column in columns] for _, row in frame.iterrows()]
    return header, rows


def mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return ""
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def comparison_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Per-case changes between two runs (from bench.analysis.compare.compare), one group of columns
    per compared record field that either run holds; largest training-throughput drop first;
    throughput relative to each case's machine-speed reference where recorded."""
    columns = [c for c in compared_fields() if table[[f"{c}_before", f"{c}_after"]].notna().any().any()]
    header = ["case"]
    for column in columns:
        title = FIELDS[column].title
        header += ([f"{title} change", f"p (rounds, {title})"] if FIELDS[column].is_rate
                   else [f"{title} before", f"{title} after", f"{title} change"])
    if "train_samples_per_sec_machine_change" in table.columns:
        table = table.sort_values("train_samples_per_sec_machine_change", na_position="last")
    rows = []
    for _, row in table.iterrows():
        cells = [row["case_id"]]
        for column in columns:
            if FIELDS[column].is_rate:
                cells += [percent(row[f"{column}_machine_change"]), fmt(row[f"{column}_p"], 2)]
            else:
                cells += [fmt(row[f"{column}_before"]), fmt(row[f"{column}_after"]), fmt(row[f"{column}_change"])]
        rows.append(cells)
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
