"""The implementation comparison: one row per normalizer implementation and environment, merging
runs made in different environments (``normbench report RUN_MAIN RUN_TFA``)."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from bench.analysis.frame import measured
from report.tables import fmt, mean_sd


def environments(infos: list[Mapping]) -> dict[str, str]:
    """run id -> "TensorFlow x, Keras y" from each run's run.json."""
    names = {}
    for info in infos:
        framework = info.get("framework") if isinstance(info.get("framework"), Mapping) else {}
        names[str(info.get("run_id"))] = (f"TensorFlow {framework.get('tensorflow', '?')}, "
                                          f"Keras {framework.get('keras', '?')}")
    return names


def implementation_rows(frame: pd.DataFrame, infos: list[Mapping]) -> tuple[list[str], list[list[str]]]:
    """Rows for records that name an implementation, when some are not Keras's own."""
    data = frame[frame["implementation"].notna()]
    if data.empty or set(data["implementation"]) <= {"keras"}:
        return [], []
    names = environments(infos)
    header = ["suite", "kind", "implementation", "environment", "device", "cases", "acc (inference)",
              "train samples/s", "output max abs diff", "output max rel diff", "gradient max rel diff",
              "skipped because"]
    rows = []
    keys = ["suite", "normalizer_kind", "implementation", "run_id", "device"]
    for (suite, kind, implementation, run_id, device), group in data.groupby(keys, dropna=False, sort=True):
        ran = measured(group)
        skipped = group.loc[group["status"] == "skipped", "error"].dropna()
        rows.append([
            suite, kind, implementation, names.get(str(run_id), str(run_id)), device,
            f"{len(ran)} of {len(group)}", mean_sd(ran["test_accuracy"]),
            fmt(ran["train_samples_per_sec"].median(), 0),
            _max(ran["output_max_abs_diff"]), _max(ran["output_max_rel_diff"]), _max(ran["gradient_max_rel_diff"]),
            skipped.iloc[0] if len(skipped) and not len(ran) else "",
        ])
    return header, rows


def _max(values: pd.Series) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return f"{values.max():.2g}" if len(values) else ""
