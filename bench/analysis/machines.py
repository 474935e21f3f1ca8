"""The same configurations on different machines, side by side (asv's machine dimension): one
column per machine, rows keyed by config hash, and whether each setting's accuracy agrees across
machines within seed noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from bench.analysis.compare import SEED
from bench.analysis.history import Run, by_machine
from bench.analysis.stats import difference


@dataclass(frozen=True)
class Agreement:
    """One setting's accuracy on two machines: paired by seed where both ran the same seeds."""

    setting: str
    first: str
    second: str
    difference: float  # second - first, in accuracy (0..1)
    low95: float
    high95: float
    seeds: int
    verdict: str


def newest_by_machine(runs: Sequence[Run]) -> dict[str, dict[str, dict]]:
    """machine -> config_hash -> that machine's newest finished record of the configuration."""
    table: dict[str, dict[str, dict]] = {}
    for machine, group in by_machine(runs).items():
        for run in group:
            for record in run.records:
                if record.get("config_hash") and record.get("status") in ("ok", "nan"):
                    table.setdefault(machine, {})[record["config_hash"]] = record
    return table


def shared_configurations(runs: Sequence[Run]) -> tuple[list[str], list[tuple[str, dict[str, dict]]]]:
    """(machines, [(config_hash, {machine: record})]) for configurations run on two machines or more,
    in case-id order; empty when the runs come from one machine."""
    table = newest_by_machine(runs)
    machines = list(table)
    if len(machines) < 2:
        return machines, []
    hashes = {h for records in table.values() for h in records}
    rows = [(h, {m: table[m][h] for m in machines if h in table[m]}) for h in hashes]
    rows = [(h, per) for h, per in rows if len(per) >= 2]
    rows.sort(key=lambda row: str(next(iter(row[1].values())).get("case_id")))
    return machines, rows


def accuracy_agreement(runs: Sequence[Run], column: str = "test_accuracy") -> list[Agreement]:
    """Per setting (a case id without its seed) and pair of machines: the accuracy difference over
    the seeds with its 95% interval (seed-paired where both ran the same seeds, else Welch). They
    agree within seed noise when the interval contains zero; with one seed no interval exists."""
    machines, rows = shared_configurations(runs)
    seeds: dict[str, dict[str, dict[int, float]]] = {}
    for _, per in rows:
        for machine, record in per.items():
            value = record.get(column)
            if isinstance(value, (int, float)) and math.isfinite(value):
                setting = SEED.sub("", str(record.get("case_id")))
                seeds.setdefault(setting, {}).setdefault(machine, {})[int(record.get("seed") or 0)] = float(value)
    found = []
    for setting in sorted(seeds):
        present = [m for m in machines if m in seeds[setting]]
        for i, first in enumerate(present):
            for second in present[i + 1:]:
                diff = difference(seeds[setting][second], seeds[setting][first])
                if diff.n < 2 or math.isnan(diff.low95):
                    verdict = "one seed: cannot tell"
                elif diff.low95 <= 0 <= diff.high95:
                    verdict = "agree within seed noise"
                else:
                    verdict = "differ beyond seed noise"
                found.append(Agreement(setting, first, second, diff.mean, diff.low95, diff.high95, diff.n, verdict))
    return found
