"""The report's view across runs: the same configurations on different machines side by side, and
each machine's history per suite (throughput and accuracy against date and commit, with the runs
where a series moved beyond its noise). Renders only; the analysis is bench.analysis.history and
bench.analysis.machines."""

from __future__ import annotations

import base64
import io
import math
from typing import Sequence

from bench.analysis import history, machines
from bench.analysis.history import Run, as_run
from bench.results.fields import FIELDS
from report.figures.common import close, plt
from report.tables import fmt, percent

SERIES = ("train_samples_per_sec", "test_accuracy")  # the history's two panels: speed, then accuracy


def history_runs(runs: Sequence) -> list[Run]:
    """The report's runs (``report.render.RunData``) as history sees them."""
    return [as_run(run.info, run.records) for run in runs]


def newest_records(runs: Sequence) -> list[dict]:
    """Each configuration's newest record, so sections over a history show each case once."""
    return history.newest_records(history_runs(runs))


def history_view(runs: Sequence) -> dict | None:
    """What templates/history.html shows; None for a single run."""
    if len(runs) < 2:
        return None
    found = history_runs(runs)
    view = {"machines": _machine_table(found), "agreement": _agreement_rows(found), "suites": [],
            "changes_available": history.changes_available()}
    for machine, group in history.by_machine(found).items():
        if len(group) < 2:
            continue
        speeds = history.series(group, SERIES[0])
        accuracies = history.series(group, SERIES[1])
        for suite in sorted({s.suite for s in speeds + accuracies}):
            view["suites"].append(_suite_history(machine, group, [s for s in speeds if s.suite == suite],
                                                 [s for s in accuracies if s.suite == suite], suite))
    return view if view["machines"] or view["suites"] else None


def _machine_table(runs: list[Run]) -> dict | None:
    names, rows = machines.shared_configurations(runs)
    if not rows:
        return None
    header = ["case", *(f"{FIELDS[c].title} on {name}" for name in names for c in SERIES)]
    body = []
    for _, per in rows:
        case_id = next(iter(per.values())).get("case_id")
        cells = [str(case_id)]
        for name in names:
            record = per.get(name, {})
            cells += [fmt(record.get(c), 0 if FIELDS[c].is_rate else 3) if record else "not run" for c in SERIES]
        body.append(cells)
    return {"header": header, "rows": body, "machines": names}


def _agreement_rows(runs: list[Run]) -> list[list[str]]:
    return [[a.setting, a.first, a.second, f"{100 * a.difference:+.1f}",
             "" if math.isnan(a.low95) else f"[{100 * a.low95:+.1f}, {100 * a.high95:+.1f}]", str(a.seeds), a.verdict]
            for a in machines.accuracy_agreement(runs)]


def _suite_history(machine: str, runs: list[Run], speeds, accuracies, suite: str) -> dict:
    whole = history.run_changes(speeds)
    levels = history.run_levels([run for run in runs if any(r.get("suite") == suite for r in run.records)],
                                SERIES[0])[0] if speeds else []
    rows = []
    for index, run in enumerate(runs):
        moved = [s.case_id for s in speeds + accuracies if index in s.changes]
        rows.append([run.run_id, run.started[:16].replace("T", " "), run.commit,
                     percent(math.expm1(levels[index])) if index < len(levels) else "",
                     ("whole run changed; " if index in whole else "") + (f"{len(moved)} series moved here"
                                                                          if moved else "")])
    moved = [f"{s.case_id}: {FIELDS[s.field].title} {_step(s)} from run {runs[s.changes[0]].run_id} "
             f"({runs[s.changes[0]].commit})" for s in speeds + accuracies if s.changes]
    return {"machine": machine, "suite": suite, "rows": rows, "moved": moved,
            "figure": _figure(machine, suite, runs, speeds, accuracies, whole)}


def _step(s) -> str:
    """The change at a series' first change point: mean after over mean before (rates as ratios)."""
    cut = s.changes[0]
    before = [v for v in s.values[:cut] if v == v]
    after = [v for v in s.values[cut:(s.changes[1] if len(s.changes) > 1 else None)] if v == v]
    if not before or not after:
        return "moved"
    a, b = sum(before) / len(before), sum(after) / len(after)
    return f"{b / a - 1:+.0%}" if FIELDS[s.field].is_rate else f"{100 * (b - a):+.1f} points"


def _figure(machine, suite, runs, speeds, accuracies, whole) -> str:
    """Each case's training speed (log scale) and accuracy against the run (date, commit); changes
    of a whole run as red lines, a single series' change as a red ring."""
    labels = [f"{run.started[5:16].replace('T', ' ')}\n{run.commit[:7]}" for run in runs]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, members, column in zip(axes, (speeds, accuracies), SERIES):
        for s in members:
            x = [i for i, v in enumerate(s.values) if v == v]
            ax.plot(x, [s.values[i] for i in x], marker="o", linewidth=1, markersize=3, alpha=0.8)
            ax.scatter(s.changes, [s.values[i] for i in s.changes], s=80, facecolors="none", edgecolors="red")
        for index in whole:
            ax.axvline(index - 0.5, color="red", linestyle="--", linewidth=1)
        if FIELDS[column].is_rate and members:
            ax.set_yscale("log")
        ax.set_xticks(range(len(runs)), labels, fontsize=7, rotation=45, ha="right")
        ax.set_ylabel(FIELDS[column].title)
    fig.suptitle(f"{suite} on {machine}: one line per case", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
