"""Assemble run.json and records into one self-contained HTML file (figures inline as PNG data URIs,
no network, every text value escaped by Jinja2's autoescape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

import jinja2

from bench.analysis import verdicts
from bench.analysis.frame import records_frame
from bench.analysis.headlines import VERDICT_OPTIONS
from bench.core.errors import NormbenchError
from bench.core.params import parse_options
from bench.results.store import REPORT, RunStore, atomic_write
from report import figures, findings, tables
from report.figures.common import png_base64
from report.figures.forest import verdicts_figure
from report.history import history_view, newest_records
from report.implementations import implementation_rows
from report.layer_tables import is_layer_suite, layer_summary, slowdown_rows

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class RunData:
    """One run as the report sees it: its run.json, its intact records, and what could not be read."""

    info: dict
    records: list[dict]
    problems: list[str]
    rounds: dict = field(default_factory=dict)  # (case_id, phase) -> timed rounds, for verdicts


def load_run(store: RunStore) -> RunData:
    loaded = store.load()
    return RunData(store.read_info(), loaded.records, loaded.problems, store.timing_rounds())


def suite_findings(runs: Sequence[RunData], frame=None) -> list[findings.SuiteFindings]:
    """Every suite's findings, in the runs' suite order (what the HTML and the Markdown page open with)."""
    frame = records_frame(r for run in runs for r in run.records) if frame is None else frame
    rounds = {key: value for run in runs for key, value in run.rounds.items()}
    answers = []
    for name in _suite_order(runs, frame):
        suite_frame = frame[frame["suite"] == name]
        if is_layer_suite(suite_frame):
            answers.append(findings.layer_findings(name, suite_frame))
        else:
            options = _verdict_options(runs, name)
            answers.append(findings.model_findings(
                name, suite_frame, verdicts.setting_verdicts(suite_frame, rounds, options), options))
    return answers


def render_report(runs: Sequence[RunData]) -> str:
    frame = records_frame(newest_records(runs))  # over a history: each configuration's newest record once
    colours = figures.palette(frame["normalizer"].dropna())
    rounds = {key: value for run in runs for key, value in run.rounds.items()}
    answers = suite_findings(runs, frame)
    answer_of = {f.name: f for f in answers}
    suites = []
    for name in _suite_order(runs, frame):
        suite_frame = frame[frame["suite"] == name]
        if is_layer_suite(suite_frame):
            header, rows = layer_summary(suite_frame)
            verdict_header, verdict_rows = [], []
            slowdown_header, slowdown_rows_ = slowdown_rows(suite_frame)
        else:
            header, rows = tables.suite_summary(suite_frame)
            options = _verdict_options(runs, name)
            verdict_header, verdict_rows = verdicts.suite_verdicts(suite_frame, rounds, options)
            slowdown_header, slowdown_rows_ = [], []
        suites.append({
            "verdict_header": verdict_header, "verdict_rows": verdict_rows,
            "slowdown_header": slowdown_header, "slowdown_rows": slowdown_rows_,
            "name": name,
            "description": description(runs, name),
            "counts": tables.status_counts(suite_frame) if len(suite_frame) else {},
            "figures": [f for f in (_figure(fn, suite_frame, colours) for fn in figures.FIGURES) if f],
            "summary_header": header, "summary_rows": rows,
            # the first screen: the headline as a forest plot (None for layer suites) and one sentence
            "forest": verdicts_figure(answer_of[name].headline, name) if name in answer_of else None,
            "what": answer_of[name].what if name in answer_of else "",
            "summary": answer_of[name].summary if name in answer_of else "",
        })
    record_header, record_rows = tables.record_rows(frame)
    implementation_header, implementation_rows_ = implementation_rows(frame, [run.info for run in runs])
    comparison = _comparison(runs) if len(runs) == 2 else None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("report.html").render(
        runs=[_info_view(run.info) for run in runs], suites=suites, findings=answers,
        headline=(sum(f.headline_decided for f in answers), sum(f.headline_total for f in answers)),
        counts=tables.status_counts(frame) if len(frame) else {}, summary=tables.run_summary(frame),
        elapsed=elapsed_text([run.info for run in runs]),
        record_header=record_header, record_rows=record_rows,
        problems=[p for run in runs for p in run.problems], comparison=comparison,
        implementation_header=implementation_header, implementation_rows=implementation_rows_,
        history=history_view(runs),
        claims={name: c for name in _suite_order(runs, frame) if (c := suite_claims(runs, name, frame)) is not None},
    )


def elapsed_text(infos: Sequence[dict]) -> str:
    """The runs' wall time (started to finished, summed over runs; "" when a run has no end), and a
    budgeted run's budget: the header's "decided in ..."."""
    seconds, budgets = 0.0, []
    for info in infos:
        try:
            start = datetime.fromisoformat(str(info["started_at"]))
            seconds += (datetime.fromisoformat(str(info["finished_at"])) - start).total_seconds()
        except (KeyError, TypeError, ValueError):
            return ""
        budget = info.get("budget")
        if isinstance(budget, dict) and isinstance(budget.get("seconds"), (int, float)):
            budgets.append(f"a budget of {_minutes(budget['seconds'])}, at most {budget.get('max_seeds')} seeds")
    return _minutes(seconds) + (f" ({'; '.join(budgets)})" if budgets else "")


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _comparison(runs: Sequence[RunData]) -> dict | None:
    """The two runs' shared cases, biggest training-throughput drop first."""
    from bench.analysis.compare import compare

    table = compare(runs[0].records, runs[1].records, runs[0].rounds, runs[1].rounds)
    if table.empty:
        return None
    header, rows = tables.comparison_rows(table)
    return {"before": runs[0].info.get("run_id", "?"), "after": runs[1].info.get("run_id", "?"),
            "header": header, "rows": rows}


def write_report(stores: Sequence[RunStore], output: str | Path | None = None) -> Path:
    """Render the runs' report and write it (by default into the first run's directory)."""
    html = render_report([load_run(store) for store in stores])
    path = Path(output) if output else stores[0].path / REPORT
    atomic_write(path, html)
    return path.resolve()


def _info_view(info) -> dict:
    """run.json as the template expects it, whatever a hand edit or a newer version left there."""
    info = info if isinstance(info, dict) else {}
    view = dict(info)
    for key in ("machine", "framework", "commit"):
        view[key] = info.get(key) if isinstance(info.get(key), dict) else {}
    frameworks = info.get("frameworks") if isinstance(info.get("frameworks"), dict) else {}
    if len(frameworks) > 1:  # a run across Keras backends: every framework's versions, GPUs per backend
        view["framework"] = {"keras_backends": ", ".join(frameworks)}
        for name, framework in frameworks.items():
            for key, value in (framework.items() if isinstance(framework, dict) else ()):
                if key != "keras_backend":
                    view["framework"][f"{key} ({name})" if key == "gpus" else key] = value
    view["suites"] = [s for s in info.get("suites", []) if isinstance(s, dict)] \
        if isinstance(info.get("suites"), list) else []
    view["argv"] = [str(a) for a in info.get("argv", [])] if isinstance(info.get("argv"), list) else []
    executions = info.get("executions") if isinstance(info.get("executions"), list) else []
    view["executions"] = [_execution_text(e) for e in executions if isinstance(e, dict)]
    return view


def _execution_text(execution: dict) -> str:
    """One line per start or resume of the run: which executor, how many workers and threads, where."""
    text = (f"{execution.get('executor', '?')}, {execution.get('workers', '?')} worker(s), "
            f"{execution.get('threads', '?')} thread(s) each, started {execution.get('started_at', '?')}")
    if isinstance(execution.get("backends"), list):
        text += f"; Keras backend(s): {', '.join(map(str, execution['backends']))}"
    nodes = execution.get("nodes")
    if isinstance(nodes, list) and nodes:
        text += f"; Ray {execution.get('ray', '?')} cluster {execution.get('cluster', '?')}: " + ", ".join(
            f"{n.get('node')} ({n.get('cpus')} CPUs, {n.get('gpus')} GPUs)" for n in nodes if isinstance(n, dict))
    return text


def _figure(fn, frame, colours) -> dict | None:
    if frame.empty:
        return None
    fig = fn(frame, colours)
    if fig is None:
        return None
    summary = (fn.__doc__ or fn.__name__).strip().split("\n\n")[0]  # the docstring's first paragraph
    return {"title": " ".join(summary.split()), "png": png_base64(fig)}


def _suite_order(runs: Sequence[RunData], frame) -> list[str]:
    """Suites in the order the runs declared them, then any found only in records; a declared
    suite with no records yet is still listed (shown as missing)."""
    names = [s.get("name") for run in runs for s in _info_view(run.info)["suites"]]
    names += [n for n in frame["suite"].dropna().unique()]
    return list(dict.fromkeys(n for n in names if isinstance(n, str)))


def _suite_entry(runs: Sequence[RunData], name: str) -> dict:
    """The first run.json suite entry named ``name`` ({} when no run declared it)."""
    for run in runs:
        for suite in _info_view(run.info)["suites"]:
            if suite.get("name") == name:
                return suite
    return {}


def _verdict_options(runs: Sequence[RunData], name: str) -> dict:
    """The suite's ``verdicts`` section as run.json kept it (runs from before it existed: defaults)."""
    suite = _suite_entry(runs, name)
    options = suite.get("verdicts")
    if not isinstance(options, dict) and isinstance(suite.get("document"), dict):
        options = suite["document"].get("verdicts")
    try:
        return parse_options(VERDICT_OPTIONS, options, "verdicts")
    except (NormbenchError, ValueError):  # a hand-edited run.json: defaults rather than no report
        return {}


def suite_claims(runs: Sequence[RunData], name: str, frame, figures: bool = True):
    """The suite's claims judged against its records (report/claims.py), or None without claims."""
    from report.claims import claims_section

    return claims_section(frame[frame["suite"] == name], _suite_entry(runs, name), _verdict_options(runs, name),
                          figures)


def description(runs: Sequence[RunData], name: str) -> str:
    return str(_suite_entry(runs, name).get("description") or "")
