"""Compare two runs case by case, like ``pytest-benchmark compare``, but only like with like and
only beyond noise.

- Cases pair when their ``case_id`` *and* ``config_hash`` agree (asv's benchmark-version idea): a
  suite whose ``epochs`` changed keeps its case ids, and such cases are listed as "configuration
  changed", never as regressions. Records from before the hash existed pair by case id alone.
- Throughput is judged relative to the machine's own speed: each case's samples/s is multiplied by
  its ``reference_seconds`` (a fixed kernel timed just before the case), so a slower moment of the
  machine is not a slower normalizer. Records without it are compared raw, and the output says so.
- A rule such as ``throughput:5%`` flags a drop of more than 5% (machine-relative) only where it
  is also beyond noise: over all cases together (the median case, Wilcoxon signed-rank), per setting over its seeds (each seed is
  a separate timing minutes apart, so their spread is the run-to-run noise the rounds of one timing
  cannot see; Holm-corrected over the settings tested), or, for a single-seed setting, when its
  rounds differ (Mann-Whitney U, as asv does) and the drop is beyond three robust standard
  deviations of every case's change in the comparison. Measured here: two honest runs back to back
  differed by up to 42% in single cases.
  ``accuracy:2%`` flags a setting (all seeds of it) whose mean inference accuracy drops by more than
  2 points with a seed-paired 95% interval below zero (with one seed the threshold alone decides,
  and the line says "not tested").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from bench.core.errors import NormbenchError
from bench.results.fields import FIELDS, shown_in
from bench.analysis.stats import difference, mann_whitney



def compared_fields() -> list[str]:
    """The record fields ``compare`` judges: those the field table shows in "compare" (read at call
    time, so a field registered later is compared too)."""
    return shown_in("compare")


def rate_fields() -> list[str]:
    """Throughputs (samples/s): compared as ratios, machine-relative, their rounds tested; each
    field's timing rounds are stored under the phase its name starts with."""
    return [name for name in compared_fields() if FIELDS[name].is_rate]


def phase(column: str) -> str:
    return column.split("_")[0]


def metrics() -> dict[str, tuple[str, ...]]:
    """``--fail-on`` rule names: every compared field by its own name, ``throughput`` for every
    rate, ``<phase>_throughput`` for one, and ``accuracy`` for test_accuracy."""
    found = {name: (name,) for name in compared_fields()}
    rates = rate_fields()
    found.update({"throughput": tuple(rates), **{f"{phase(name)}_throughput": (name,) for name in rates}})
    if "test_accuracy" in found:
        found["accuracy"] = ("test_accuracy",)
    return found


ALPHA = 0.05
SEED = re.compile(r"/seed=[^/]*")


@dataclass(frozen=True)
class Rule:
    metric: str
    percent: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.percent:g}%"


def parse_rule(text: str) -> Rule:
    """``METRIC:N%`` with METRIC one of METRICS; a bad rule is a one-line NormbenchError."""
    match = re.fullmatch(r"([a-z_]+):([0-9]*\.?[0-9]+)%", text.strip())
    if not match or match.group(1) not in metrics():
        raise NormbenchError(f"--fail-on {text!r}: expected METRIC:N% with METRIC one of "
                             f"{', '.join(metrics())} (e.g. throughput:5%)")
    return Rule(match.group(1), float(match.group(2)))


def pairs(before: list[dict], after: list[dict]) -> tuple[list[tuple[dict, dict]], list[str]]:
    """(matched (before, after) records, case ids whose configuration changed)."""
    a = {r["case_id"]: r for r in before}
    b = {r["case_id"]: r for r in after}
    matched, changed = [], []
    for case_id in [c for c in a if c in b]:
        old, new = a[case_id].get("config_hash"), b[case_id].get("config_hash")
        if old and new and old != new:
            changed.append(case_id)
        else:
            matched.append((a[case_id], b[case_id]))
    return matched, changed


def compare(before: list[dict], after: list[dict], before_rounds: dict | None = None,
            after_rounds: dict | None = None) -> pd.DataFrame:
    """One row per paired case: each metric before, after, its change, and for throughput the
    machine-relative change and the Mann-Whitney p-value of the two runs' rounds.

    Throughput changes are relative (after / before - 1); accuracy changes are absolute.
    """
    before_rounds, after_rounds = before_rounds or {}, after_rounds or {}
    rows = []
    for a, b in pairs(before, after)[0]:
        row = {"case_id": a["case_id"], "setting": SEED.sub("", a["case_id"]), "seed": a.get("seed"),
               "status_before": a.get("status"), "status_after": b.get("status")}
        ref_a, ref_b = _number(a.get("reference_seconds")), _number(b.get("reference_seconds"))
        relative = ref_a > 0 and ref_b > 0  # NaN compares False
        row["machine_relative"] = relative
        row["machine_speed_change"] = ref_a / ref_b - 1 if relative else math.nan
        rates = rate_fields()
        for column in compared_fields():
            old, new = _number(a.get(column)), _number(b.get(column))
            row[f"{column}_before"], row[f"{column}_after"] = old, new
            if column not in rates:
                row[f"{column}_change"] = new - old
                continue
            raw = new / old - 1 if old and not math.isnan(old + new) else math.nan
            row[f"{column}_change"] = raw
            row[f"{column}_machine_change"] = (new * ref_b) / (old * ref_a) - 1 if relative and old else raw
            rounds_a = before_rounds.get((a["case_id"], phase(column)))
            rounds_b = after_rounds.get((b["case_id"], phase(column)))
            if rounds_a and rounds_b:
                scale_a, scale_b = (ref_a, ref_b) if relative else (1.0, 1.0)
                row[f"{column}_p"] = mann_whitney([t / scale_a for t in rounds_a], [t / scale_b for t in rounds_b])
            else:
                row[f"{column}_p"] = math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def regressions(table: pd.DataFrame, rules: list[Rule]) -> list[str]:
    """One line per case (throughput) or setting (accuracy) whose drop exceeds a rule and noise."""
    found = []
    if table.empty:
        return found
    for rule in rules:
        limit = rule.percent / 100
        for column in metrics()[rule.metric]:
            if column not in table.columns and f"{column}_before" not in table.columns:
                continue
            if FIELDS[column].is_rate:
                found += _throughput_regressions(table, column, limit, rule)
            else:
                found += _difference_regressions(table, column, limit, rule)
    return found


def _throughput_regressions(table, column, limit, rule) -> list[str]:
    """Beyond the threshold *and* beyond noise, at three levels:

    - all cases together (a drop of the typical case: median log change below the threshold and a
      one-sided Wilcoxon signed-rank test);
    - per setting over its seeds (each seed a separate timing minutes apart, so their spread is the
      run-to-run noise the rounds of one timing cannot see), with Holm's correction over the
      settings tested, since a compare tests dozens of them;
    - a single-seed setting when its rounds differ (Mann-Whitney) and its drop is beyond three robust
      standard deviations of every case's change in this comparison.
    """
    data = table.dropna(subset=[f"{column}_machine_change"])
    data = data[data[f"{column}_machine_change"] > -1]
    if data.empty:
        return []
    data = data.assign(log_change=data[f"{column}_machine_change"].map(math.log1p))
    floor = math.log1p(-limit)
    basis = "relative to the machine's speed" if data["machine_relative"].all() else "raw where no reference"
    found = []
    if len(data) >= 6 and data["log_change"].median() < floor:  # the typical case dropped, not a few
        p = float(stats.wilcoxon(data["log_change"], alternative="less").pvalue)
        if p < ALPHA:
            found.append(f"across all {len(data)} cases: {column} {math.expm1(data['log_change'].median()):+.1%} "
                         f"(median), {basis} (Wilcoxon signed-rank p={p:.2g}) (rule {rule})")
    groups = [(setting, group) for setting, group in data.groupby("setting", sort=True)]
    several = [(setting, group) for setting, group in groups if len(group) >= 2]
    tested = sorted(((float(stats.ttest_1samp(g["log_change"], 0.0, alternative="less").pvalue), setting, g)
                     for setting, g in several), key=lambda item: item[0])
    for rank, (p, setting, group) in enumerate(tested):
        if not p < ALPHA / (len(tested) - rank):  # Holm: stop at the first that does not hold
            break
        if group["log_change"].mean() < floor:
            found.append(f"{setting}: {column} {math.expm1(group['log_change'].mean()):+.1%} {basis} over "
                         f"{len(group)} seeds (p={p:.2g}, Holm-corrected over {len(tested)} settings) (rule {rule})")
    spread = 1.4826 * float((data["log_change"] - data["log_change"].median()).abs().median())
    for setting, group in groups:
        if len(group) != 1:
            continue
        row = group.iloc[0]
        change, p = row["log_change"], row[f"{column}_p"]
        if change < floor and change < -3 * spread and (math.isnan(p) or p < ALPHA):
            why = "no timing rounds" if math.isnan(p) else f"rounds differ (Mann-Whitney p={p:.2g})"
            found.append(f"{row['case_id']}: {column} {math.expm1(change):+.1%} {basis}, one seed: {why}, beyond "
                         f"3x this comparison's case-to-case noise ({math.expm1(-spread):+.1%}) (rule {rule})")
    return found


def _difference_regressions(table, column, limit, rule) -> list[str]:
    """A setting whose seed-paired change goes the wrong way (down where higher is better, up where
    lower is) by more than ``limit``, with its 95% interval on that side of zero."""
    sign = -1.0 if FIELDS[column].better == "lower" else 1.0
    points = FIELDS[column].is_accuracy
    found = []
    for setting, group in table.groupby("setting", sort=True):
        group = group.dropna(subset=[f"{column}_before", f"{column}_after"])
        if group.empty:
            continue
        seeds = group["seed"].fillna(-1).astype(int)
        diff = difference(dict(zip(seeds, sign * group[f"{column}_after"])),
                          dict(zip(seeds, sign * group[f"{column}_before"])))
        if not diff.mean < -limit:
            continue
        scale, unit = (100, " points") if points else (1, "")
        mean, low, high = (sign * x * scale for x in (diff.mean, diff.low95, diff.high95))
        shown = f"{mean:+.{1 if points else 3}f}{unit} over {diff.n} seed(s)"
        if diff.n < 2 or math.isnan(diff.high95):
            found.append(f"{setting}: {column} {shown}, not tested: one seed (rule {rule})")
        elif diff.high95 < 0:
            interval = sorted((low, high))
            digits = 1 if points else 3
            found.append(f"{setting}: {column} {shown}, 95% interval [{interval[0]:+.{digits}f}, "
                         f"{interval[1]:+.{digits}f}] (rule {rule})")
    return found


def unmatched(before: list[dict], after: list[dict]) -> tuple[int, int]:
    a, b = {r["case_id"] for r in before}, {r["case_id"] for r in after}
    return len(a - b), len(b - a)


def environment_warnings(before_info: dict, after_info: dict) -> list[str]:
    """What differs between the two runs' machines and frameworks: their timings may not compare."""
    warnings = []
    for section in ("machine", "framework"):
        old, new = before_info.get(section), after_info.get(section)
        old, new = (old if isinstance(old, dict) else {}), (new if isinstance(new, dict) else {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                warnings.append(f"{section} differs: {key} {old.get(key)!r} -> {new.get(key)!r}")
    return warnings


def execution_warnings(matched: list[tuple[dict, dict]]) -> list[str]:
    """Cases timed under different thread counts or backends: the throughput change includes that."""
    keys = ("executor", "threads", "slot_cpus", "backend_version")
    counts: dict[str, int] = {}
    for a, b in matched:
        for key in keys:
            if a.get(key) is not None and b.get(key) is not None and a.get(key) != b.get(key):
                text = f"{key} {a.get(key)!r} -> {b.get(key)!r}"
                counts[text] = counts.get(text, 0) + 1
    return [f"{n} case(s) timed with {text}" for text, n in counts.items()]


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
