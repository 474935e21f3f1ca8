"""The findings of a run as a Markdown page (``normbench report RUN --markdown PAGE``).

The docs' "What the shipped suites found" page is this page rendered from a committed run
(``docs/runs/<id>/``), so every number in the docs comes from a named run and a test can render it
again and find it unchanged. Same findings as the HTML report's opening section (each suite's
one-sentence summary, then its findings and tables), no figures.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from bench.analysis.frame import records_frame
from report.render import RunData, description, suite_claims, suite_findings


def findings_markdown(runs: Sequence[RunData], source: str) -> str:
    """The page; ``source`` names where the runs' records are kept (shown, so readers can check)."""
    frame = records_frame(r for run in runs for r in run.records)
    answers = suite_findings(runs, frame)
    decided, total = sum(f.headline_decided for f in answers), sum(f.headline_total for f in answers)
    lines = ["# What the shipped suites found", "",
             f"<!-- Rendered by `normbench report {source} --markdown`; do not edit: rerun it. -->", ""]
    for run in runs:
        lines += [_provenance(run, source), ""]
    statuses = Counter(frame["status"].fillna("unknown"))
    lines += [f"Cases: {', '.join(f'{n} {status}' for status, n in sorted(statuses.items()))}. "
              f"Headline comparisons (each suite's question): **{decided} of {total} decided**. Each suite's "
              f"verdicts say how sure they are; open ones say what would settle them "
              f"([Statistics and verdicts](statistics.md)).", ""]
    for found in answers:
        lines += [f"## {found.name}", ""]
        question = _first_sentence(description(runs, found.name))
        if question:
            lines += [f"*{question}*", ""]
        if found.summary:  # the answer in one sentence, as beside the report's forest plot
            lines += [f"**{found.summary}**", ""]
        lines += [f"- {sentence}" for sentence in found.sentences] + [""]
        if found.rows:
            lines += _table(found.header, found.rows + found.more_rows) + [""]
        for title, header, rows in found.other_tables:
            lines += [f"<details><summary>{title[0].upper() + title[1:]}: {len(rows)} comparison(s)</summary>", "",
                      *_table(header, rows), "", "</details>", ""]
        claims = suite_claims(runs, found.name, frame, figures=False)
        if claims is not None:
            lines += [f"**{claims.sentence}**", ""] + (_table(claims.header, claims.rows) + [""] if claims.rows else [])
    return "\n".join(lines).rstrip() + "\n"


def _provenance(run: RunData, source: str) -> str:
    info = run.info if isinstance(run.info, dict) else {}
    machine = info.get("machine") if isinstance(info.get("machine"), dict) else {}
    commit = info.get("commit") if isinstance(info.get("commit"), dict) else {}
    framework = info.get("framework") if isinstance(info.get("framework"), dict) else {}
    where = ", ".join(f"{machine['cpu_count']} CPUs" if k == "cpu_count" else str(machine[k])
                      for k in ("cpu", "cpu_count", "system") if machine.get(k))
    versions = ", ".join(f"{k} {v}" for k, v in framework.items() if isinstance(v, str) and k != "keras_backend")
    return (f"Run `{info.get('run_id', '?')}` (records in `{source}`): started {info.get('started_at', '?')}, "
            f"finished {info.get('finished_at', '?')}, state {info.get('state', '?')}"
            f"{', quick' if info.get('quick') else ''}; machine: {where or '?'}; "
            f"commit {str(commit.get('id') or '?')[:12]}; {versions or 'framework unknown'}.")


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[:end + 1]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    return (["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(map(cell, row)) + " |" for row in rows])
