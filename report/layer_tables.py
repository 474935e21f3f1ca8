"""Tables for layer suites (``workload: layer``): cost per setting and slowdown relative to BatchNorm."""

from __future__ import annotations

import pandas as pd

from bench.analysis.frame import grid_axes, measured
from report.tables import fmt

# The settings a layer case is identified by, besides the normalizer (whether or not grid axes).
LAYER_KEYS = ["device", "backend", "shape", "batch_size", "precision", "pass", "mode", "jit_compile"]


def is_layer_suite(frame: pd.DataFrame) -> bool:
    return bool((frame["workload"] == "layer").any())


def layer_summary(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """One row per setting: median time, samples/s, GB/s, and GB/s against two ceilings measured
    next to the case: the machine's (STREAM-style; cache-sized when the call fits in the last-level
    cache, and then labelled so) and TensorFlow's elementwise kernel (the framework ceiling)."""
    data = measured(frame)
    keys = ["device", "normalizer", *[a for a in grid_axes(frame) if a not in ("device", "normalizer")]]
    header = [*keys, "median ms", "samples/s", "GB/s", "ceiling GB/s", "ceiling", "of ceiling",
              "framework GB/s", "of framework", "CV"]
    rows = []
    for key, group in data.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        kinds = group["ceiling_kind"].dropna().unique()
        rows.append([*(fmt(k) for k in key), fmt(group["layer_median_s"].median() * 1e3),
                     fmt(group["layer_samples_per_sec"].median(), 0), fmt(group["achieved_gb_per_s"].median(), 2),
                     fmt(group["bandwidth_gb_per_s"].median(), 1), ", ".join(sorted(kinds)),
                     _percent(group["bandwidth_fraction"].median()), fmt(group["framework_gb_per_s"].median(), 1),
                     _percent(group["framework_fraction"].median()), _percent(group["timing_cv"].median(), 1)])
    return header, rows


def _percent(value, digits: int = 0) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}%}"


def slowdown_rows(frame: pd.DataFrame, baseline_kind: str = "batch") -> tuple[list[str], list[list[str]]]:
    """Median time of each normalizer over BatchNorm's at the same setting, with and without XLA
    (each against BN under the same jit_compile); and XLA's own speed-up per normalizer."""
    data = measured(frame)
    if data.empty or not (data["normalizer_kind"] == baseline_kind).any():
        return [], []
    keys = [k for k in LAYER_KEYS if k != "jit_compile"]
    times = data.groupby([*keys, "normalizer", "normalizer_kind", "jit_compile"], dropna=False)["layer_median_s"].median()
    times = times.reset_index()
    labels = sorted(times.loc[times["normalizer_kind"] != baseline_kind, "normalizer"].unique())
    jit_values = sorted(times["jit_compile"].dropna().unique())
    header = [*keys]
    for label in labels:
        header += [f"{label} / BN{'' if len(jit_values) < 2 else (' (XLA)' if jit else ' (no XLA)')}"
                   for jit in jit_values]
    if len(jit_values) > 1:
        header += [f"XLA speed-up {label}" for label in sorted(times["normalizer"].unique())]
    rows = []
    for key, group in times.groupby(keys, dropna=False, sort=True):
        def median(label=None, kind=None, jit=None):
            mask = group["jit_compile"] == jit
            mask &= (group["normalizer_kind"] == kind) if kind else (group["normalizer"] == label)
            values = group.loc[mask, "layer_median_s"]
            return values.iloc[0] if len(values) else float("nan")

        row = [fmt(k) for k in (key if isinstance(key, tuple) else (key,))]
        for label in labels:
            row += [_ratio(median(label=label, jit=jit), median(kind=baseline_kind, jit=jit)) for jit in jit_values]
        if len(jit_values) > 1:
            row += [_ratio(median(label=label, jit=False), median(label=label, jit=True))
                    for label in sorted(times["normalizer"].unique())]
        rows.append(row)
    return header, rows


def _ratio(numerator: float, denominator: float) -> str:
    if pd.isna(numerator) or pd.isna(denominator) or denominator <= 0:
        return ""
    return f"{numerator / denominator:.2f}x"
