"""A run into MLflow: one MLflow run per case, nested under one parent run per suite.

Layout in the tracking store: experiment ``normbench`` (or ``--experiment``); per (normbench run,
suite) a parent run named ``<suite> @ <run id>``; under it one run per case, named by its case id,
with the record's settings and resolved configuration as parameters, its measurements as metrics
(per-epoch entries as steps) and its identity, status, machine and commit as tags
(:mod:`bench.export.parts`). The tracking URI is ``--tracking-uri``, else MLflow's own
(``MLFLOW_TRACKING_URI``, else its default).

Exporting the same run again adds only the cases not exported yet: every run normbench makes
carries ``normbench.run_id`` and is found by it first. A case run is ended (FINISHED, or FAILED
for a failed case) only after its last value is logged, so one an interrupted export left still
RUNNING is replaced, not kept beside its full copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from bench.core.errors import NormbenchError, one_line
from bench.export.extra import require
from bench.export.parts import Parts, split
from bench.export.resolved import configuration, resolved_cases
from bench.results.store import RunStore

EXPERIMENT = "normbench"
LEVEL, SUITE_LEVEL, CASE_LEVEL = "normbench.level", "suite", "case"
PARENT = "mlflow.parentRunId"  # MLflow's own tag for nesting
# MLflow's limits (mlflow.utils.validation): one log_batch holds at most 1000 entities, of which at
# most 100 parameters and 100 tags; longer parameter and tag values are cut.
BATCH_PARAMS, BATCH_TAGS, BATCH_METRICS = 100, 100, 800
MAX_PARAM, MAX_TAG = 6000, 8000


@dataclass
class Exported:
    tracking_uri: str
    experiment: str
    created: int  # case runs logged now
    existing: int  # case runs already there from an earlier export
    suites: int
    problems: list[str]


def export_mlflow(store: RunStore, tracking_uri: str | None = None, experiment: str = EXPERIMENT) -> Exported:
    """Log every record of ``store`` not yet in the tracking store; MLflow's failures (a URI it
    cannot use, a server it cannot reach) become one-line :class:`NormbenchError`s."""
    tracking = require("mlflow.tracking", "normbench export --to mlflow")
    uri = tracking_uri or tracking.get_tracking_uri()
    if uri.startswith("sqlite:"):  # MLflow's default store: its SQL backend is not in mlflow-skinny itself
        require("sqlalchemy", f"normbench export --to mlflow into {uri}")
        require("alembic", f"normbench export --to mlflow into {uri}")
    from mlflow.exceptions import MlflowException

    loaded = store.load()
    info = store.read_info()
    cases, problems = resolved_cases(info)
    try:
        with _quiet_mlflow():
            return _export(store, loaded.records, info, cases, uri, experiment, [*loaded.problems, *problems])
    except MlflowException as exc:
        raise NormbenchError(f"MLflow ({uri}): "
                             f"{one_line(str(exc.message))[:300]}") from None


def _export(store, records, info, cases, uri: str, experiment, problems) -> Exported:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    run_id = info.get("run_id") or store.run_id
    existing = _existing_runs(client, experiment_id, run_id)
    common = _run_tags(info, run_id)
    created = kept = 0
    suites = list(dict.fromkeys(record["suite"] for record in records))
    for suite in suites:
        members = [record for record in records if record["suite"] == suite]
        parent = existing.get((SUITE_LEVEL, suite))
        if parent is None:
            parent = client.create_run(
                experiment_id, start_time=_millis(min(_times(members, "started_at"), default=None)),
                run_name=f"{suite} @ {run_id}",
                tags={**common, LEVEL: SUITE_LEVEL, "normbench.suite": suite}).info.run_id
        for record in members:
            if (CASE_LEVEL, record["case_id"]) in existing:
                kept += 1
                continue
            _log_case(client, experiment_id, parent, record, common, configuration(record, cases))
            created += 1
        client.set_terminated(parent, "FINISHED", end_time=_millis(max(_times(members, "finished_at"), default=None)))
    return Exported(uri, experiment, created, kept, len(suites), problems)


def _existing_runs(client, experiment_id: str, run_id: str) -> dict[tuple[str, str], str]:
    """This normbench run's MLflow runs from earlier exports: (level, suite or case id) -> MLflow
    run id. A case run still RUNNING (an export interrupted while logging it) is deleted here, so
    it is logged again in full."""
    runs: dict[tuple[str, str], str] = {}
    token = None
    while True:
        page = client.search_runs([experiment_id], f"tags.`normbench.run_id` = '{_quoted(run_id)}'",
                                  max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            if tags.get(LEVEL) == SUITE_LEVEL:
                runs[(SUITE_LEVEL, tags.get("normbench.suite", ""))] = run.info.run_id
            elif run.info.status != "RUNNING":
                runs[(CASE_LEVEL, tags.get("normbench.case_id", ""))] = run.info.run_id
            else:
                client.delete_run(run.info.run_id)
        token = page.token
        if not token:
            return runs


def _log_case(client, experiment_id: str, parent: str, record: dict, common: dict, config: dict) -> None:
    from mlflow.entities import Metric, Param

    parts: Parts = split(record, config)
    tags = {**common, **parts.tags, LEVEL: CASE_LEVEL, PARENT: parent}
    run = client.create_run(experiment_id, start_time=_millis(record.get("started_at")),
                            run_name=record["case_id"], tags={k: _cut(v, MAX_TAG) for k, v in tags.items()})
    stamp = _millis(record.get("finished_at")) or run.info.start_time
    metrics = [Metric(key, value, stamp, 0) for key, value in parts.metrics.items()]
    metrics += [Metric(key, value, stamp, step) for key, points in parts.series.items() for step, value in points]
    params = [Param(key, _cut(value, MAX_PARAM)) for key, value in parts.params.items()]
    for start in range(0, max(len(params) // BATCH_PARAMS, len(metrics) // BATCH_METRICS) + 1):
        client.log_batch(run.info.run_id, metrics=metrics[start * BATCH_METRICS:(start + 1) * BATCH_METRICS],
                         params=params[start * BATCH_PARAMS:(start + 1) * BATCH_PARAMS])
    status = "FAILED" if record.get("status") == "failed" else "FINISHED"
    client.set_terminated(run.info.run_id, status, end_time=_millis(record.get("finished_at")))


def _run_tags(info: dict[str, Any], run_id: str) -> dict[str, str]:
    """Tags every run of this export carries: which normbench run, on which machine, at which commit."""
    machine = info.get("machine") if isinstance(info.get("machine"), dict) else {}
    commit = info.get("commit") if isinstance(info.get("commit"), dict) else {}
    tags = {"normbench.run_id": run_id, "normbench.machine": str(machine.get("host") or "unknown"),
            "normbench.machine_info": json.dumps(machine, sort_keys=True),
            "normbench.quick": str(bool(info.get("quick"))).lower()}
    if commit.get("id"):
        tags.update({"normbench.commit": str(commit["id"]), "mlflow.source.git.commit": str(commit["id"]),
                     "normbench.commit_dirty": str(bool(commit.get("dirty"))).lower()})
    return tags


def _times(records: list[dict], key: str) -> Iterator[str]:
    return (r[key] for r in records if isinstance(r.get(key), str) and _millis(r[key]) is not None)


def _millis(text: str | None) -> int | None:
    """An ISO 8601 time as MLflow's milliseconds since the epoch (None when absent or unreadable)."""
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000) if text else None
    except (TypeError, ValueError):
        return None


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 16] + " ...(truncated)"


@contextlib.contextmanager
def _quiet_mlflow():
    """MLflow and alembic announce each store they create on the terminal: one line of our own
    says where the runs went instead."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
