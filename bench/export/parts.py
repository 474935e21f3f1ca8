"""A record split into what experiment trackers hold: parameters, metrics (per-epoch series as
steps) and tags, decided by the field table (:mod:`bench.results.fields`), never by a field's name.

- tags: the record's identity and outcome (``IDENTITY``), under ``normbench.<field>``, so a run
  can be found again (re-exports search by them) and filtered by status
- metrics: measurements, i.e. numeric fields with a better direction or a measured unit (accuracy,
  NaN rate, samples/s, seconds, steps); a timing field gives one metric per statistic
  (``train_step_seconds.median``); a list of per-epoch (or per-step) entries gives series
- parameters: everything else that is set: the settings a record holds (seed, batch size,
  epsilon, learning rate after scaling: numbers without a direction, counted in examples or
  unitless), text and flags, grid axes as ``axis.<name>``, plus the resolved configuration
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bench.results.fields import FIELDS, Field

# The record's identity and outcome, kept as tags rather than parameters (tags can be searched and
# rewritten; MLflow parameters cannot change once logged).
IDENTITY = ("run_id", "suite", "case_id", "config_hash", "status", "error", "node")
# When the case ran: the tracked run's start and end time, not a parameter.
TIMES = ("started_at", "finished_at")
# Units of settings rather than measurements: a batch size is counted in examples.
SETTING_UNITS = (None, "examples")
SERIES_INDEX = ("epoch", "step")  # the key that orders a per-epoch list's entries


@dataclass
class Parts:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def is_measurement(spec: Field) -> bool:
    """Whether a numeric field is measured (a metric) rather than set (a parameter)."""
    return spec.numeric and (spec.better is not None or spec.unit not in SETTING_UNITS)


def split(record: dict[str, Any], configuration: dict[str, Any] | None = None) -> Parts:
    """The record's fields as parameters, metrics, series and tags; nulls are left out (a null is
    "does not apply" or "not measured"). ``configuration`` (flat ``section.option`` keys, see
    :func:`bench.export.resolved.configuration`) adds the resolved settings as parameters."""
    parts = Parts()
    for name, spec in FIELDS.items():
        value = record.get(name)
        if value is None or name in TIMES:
            continue
        if name in IDENTITY:
            parts.tags[f"normbench.{name}"] = _text(value)
        elif spec.type == "timing" and isinstance(value, dict):
            parts.metrics.update((f"{name}.{stat}", float(v)) for stat, v in value.items() if _number(v))
        elif spec.numeric and is_measurement(spec):
            if _number(value):
                parts.metrics[name] = float(value)
        elif spec.type == "mapping" and isinstance(value, dict):
            parts.params.update((tracker_key(f"axis.{key}"), _text(v)) for key, v in value.items() if v is not None)
        elif spec.type == "list" and (series := _series(name, value)):
            parts.series.update(series)
        elif spec.type != "list" or value:
            parts.params[name] = _text(value)
    for key, value in (configuration or {}).items():
        if value is not None:
            parts.params[key] = _text(value)
    return parts


def _series(name: str, value: Any) -> dict[str, list[tuple[int, float]]]:
    """A list field as metric series: numbers by position, or entries that carry an ``epoch`` (or
    ``step``) key, one series per numeric key and per text key's value (``bn_statistics.<layer>.
    mean_error``). Empty when the list is neither (warnings, not_applicable: parameters)."""
    if not isinstance(value, list) or not value:
        return {}
    if all(_number(v) for v in value):
        return {name: [(step, float(v)) for step, v in enumerate(value)]}
    if not all(isinstance(v, dict) for v in value):
        return {}
    index = next((key for key in SERIES_INDEX if all(isinstance(v.get(key), int) for v in value)), None)
    if index is None:
        return {}
    series: dict[str, list[tuple[int, float]]] = {}
    for entry in value:
        labels = [str(v) for k, v in entry.items() if k != index and isinstance(v, str)]
        for key, v in entry.items():
            if key != index and _number(v):
                series.setdefault(tracker_key(".".join([name, *labels, key])), []).append((entry[index], float(v)))
    return series


def tracker_key(text: str) -> str:
    """MLflow's key alphabet: letters, digits, ``_ - . / `` and space; anything else becomes ``_``."""
    return re.sub(r"[^\w\-. /]", "_", text)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
