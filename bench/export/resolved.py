"""Each case's fully resolved configuration, rebuilt from the suites a run stored in run.json.

A record holds the settings that vary (grid values, the learning rate after scaling), not every
resolved option (model widths, timing rounds, dataset options). run.json keeps each suite's full
document, so the cases are expanded again as the run expanded them; a rebuilt case counts only when
its config hash equals the record's, so a suite that validates differently today (or a record from
before config hashes) never lends a record a configuration it did not run with.
"""

from __future__ import annotations

from typing import Any

from bench.core.errors import NormbenchError
from bench.suite import expand
from bench.suite.grid import Case
from bench.suite.loader import suite_from_document

# Case.to_dict() keys -> the parameter prefix each option mapping gets (``training.epochs``)
SECTIONS = {"normalizer_options": "normalizer", "dataset_options": "dataset", "model_options": "model",
            "timing": "timing"}


def resolved_cases(info: dict[str, Any]) -> tuple[dict[str, Case], list[str]]:
    """The run's cases by case id, and one line per suite that could not be rebuilt (and why)."""
    cases: dict[str, Case] = {}
    problems = []
    for suite in info.get("suites") or []:
        try:
            loaded = suite_from_document(suite["document"], suite["source"], suite.get("sha256", ""))
            cases.update((case.case_id, case) for case in expand(loaded, bool(info.get("quick"))))
        except (NormbenchError, KeyError, TypeError) as exc:
            name = suite.get("name", "?") if isinstance(suite, dict) else "?"
            problems.append(f"suite {name}: its resolved configuration was not rebuilt ({exc}); "
                            "its parameters are the record's settings only")
    for data in info.get("extra_cases") or []:  # seeds added after the plan (--budget)
        try:
            case = Case.from_dict(data)
            cases[case.case_id] = case
        except (TypeError, KeyError, AttributeError):
            continue
    return cases, problems


def configuration(record: dict[str, Any], cases: dict[str, Case]) -> dict[str, Any]:
    """The record's resolved configuration as flat ``section.option`` keys (``training.epochs``,
    ``model.widths``); empty when no rebuilt case has the record's config hash."""
    case = cases.get(record.get("case_id"))
    if case is None or not record.get("config_hash") or case.config_hash != record["config_hash"]:
        return {}
    data = case.to_dict()
    flat = {}
    for key, prefix in [*SECTIONS.items(), ("settings", "training" if case.workload == "model" else "layer")]:
        for option, value in sorted(data[key].items()):
            flat[f"{prefix}.{option}"] = value
    return flat
