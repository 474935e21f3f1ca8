"""The one result-record schema: every case, whatever happened to it, becomes one of these.

A record is a flat JSON object with every key of the field table (:mod:`bench.results.fields`),
which says what each means, its type, unit and which direction is better. Bump
``SCHEMA_VERSION`` when a field changes meaning, and teach :func:`upgrade` to read the old version.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bench.core.metrics import effective_learning_rate
from bench.results.fields import FIELDS, Field  # noqa: F401 - re-exported: records are built from the table

SCHEMA_VERSION = 3
# Fields renamed in a schema version: (version, old name, new name). upgrade() reads the old names.
RENAMED = ((3, "suite_kind", "workload"), (3, "kind", "normalizer_kind"))
STATUSES = ("ok", "nan", "failed", "skipped")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_record(case, run_id: str) -> dict[str, Any]:
    """A record for ``case`` with its identity filled and every measurement still null."""
    record = dict.fromkeys(FIELDS)
    options, training = case.normalizer_options, case.settings
    record.update(
        schema_version=SCHEMA_VERSION, run_id=run_id, suite=case.suite, workload=case.workload,
        case_id=case.case_id, normalizer=case.normalizer, normalizer_kind=case.normalizer_kind, device=case.device, seed=case.seed,
        backend=training.get("backend", "tensorflow"),
        batch_size=training["batch_size"], epsilon=options.get("epsilon"), momentum=options.get("momentum"),
        groups=options.get("groups"), implementation=options.get("implementation"), axes=dict(case.axes),
        not_applicable=list(case.not_applicable), config_hash=case.config_hash, warnings=list(case.warnings),
        started_at=now(),
    )
    if case.workload == "layer":
        record.update(precision=training["dtype"], shape=training["shape"], jit_compile=training["jit_compile"],
                      mode=training["mode"], **{"pass": training["pass"]})
        return record
    replicas = training.get("replicas", 1)
    record.update(
        replicas=replicas, per_device_batch=training["batch_size"] // replicas,
        synchronized=options.get("synchronized"),
        eval_batch_size=training["eval_batch_size"] or training["batch_size"],
        learning_rate=effective_learning_rate(
            training["learning_rate"], training["batch_size"], training["lr_scaling"],
            training["reference_batch_size"]),
        base_learning_rate=training["learning_rate"], epochs=training["epochs"],
        optimizer=training["optimizer"], placement=case.model_options.get("placement"),
        precision=training["precision"], dataset=case.dataset,
        input_scale=case.dataset_options.get("input_scale"), model=case.model,
        fine_tune_bn=training["fine_tune_bn"] if training["fine_tune_epochs"] else None,
    )
    return record


def skipped(case, run_id: str, reason: str) -> dict[str, Any]:
    record = new_record(case, run_id)
    record.update(status="skipped", error=reason, finished_at=record["started_at"])
    return record


def current_names(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with every renamed field under its current name (an older record, or a fixture
    written by hand); values are left as they are."""
    if not any(old in record for _, old, _ in RENAMED):
        return record
    renamed = dict(record)
    for _, old, new in RENAMED:
        if old in renamed and renamed.get(new) is None:
            renamed[new] = renamed.pop(old)
    return renamed


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored record to the current schema; missing fields read as null."""
    version = record.get("schema_version")
    if version is not None and version > SCHEMA_VERSION:
        raise ValueError(f"record schema {version} is newer than this normbench ({SCHEMA_VERSION})")
    full = dict.fromkeys(FIELDS)
    full.update(record)
    for since, old, new in RENAMED:
        if (version or 1) < since and old in record:
            full[new] = record[old]
            full.pop(old, None)
    if (version or 1) < 2 and record.get("suite_kind") == "layer":
        # version 1 divided by TensorFlow's elementwise kernel: that is the framework ceiling now
        full.update(framework_gb_per_s=record.get("bandwidth_gb_per_s"),
                    framework_fraction=record.get("bandwidth_fraction"), bandwidth_gb_per_s=None,
                    bandwidth_fraction=None)
    if full["backend"] is None:
        full["backend"] = "tensorflow"  # every case before the backend axis ran on TensorFlow
    full["schema_version"] = SCHEMA_VERSION
    return full
