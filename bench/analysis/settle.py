"""Where the next seeds go in a budgeted run (``normbench run --budget``): the open headline
comparisons, the most informative per CPU-second first.

After every round each suite's headline comparisons (whatever their kind) are judged as the report
judges them, with the intervals of the run's sequential design (:mod:`bench.analysis.sequential`).
A comparison that is not settled asks for seeds up to its next look; requests are ranked by the
chance the next look decides them (if the observed mean and spread hold) per second of the cases
they add. The engine turns each request into cases (:mod:`bench.execute.settle`) and spends the
budget down the ranking.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
from scipy import stats as scipy_stats

from bench.analysis import sequential
from bench.analysis.claims import claim_results
from bench.analysis.headlines import HEADLINES
from bench.analysis.stats import Difference, quantiles
from bench.analysis.verdicts import DEFAULTS, Verdict, headline, labelled, setting_verdicts

FALLBACK_CASE_SECONDS = 10.0  # a setting whose cases recorded no time yet (all skipped, say)


@dataclass(frozen=True)
class SeedRequest:
    """New ``seeds`` at ``setting`` (device, shared axis values, and the normalizer when an axis's
    values compete) for the candidates the open comparisons there compare (``configs``: their
    :func:`candidate_key`; None: every candidate); ``value`` is the chance the next look decides the
    comparison per CPU-second it costs (higher first); ``timed``: whether a speed comparison asks,
    so the cases' steps are timed."""

    setting: dict
    seeds: tuple[int, ...]
    value: float = 0.0
    seconds: float = 0.0  # estimated CPU-seconds of the cases it adds
    configs: frozenset | None = None
    timed: bool = True


def seed_requests(frame: pd.DataFrame, options: dict, first_seeds: Sequence[int], schedule: tuple[int, ...],
                  rounds: dict | None = None, claims: Sequence = ()) -> list[SeedRequest]:
    """One request per setting where an unsettled headline comparison or an open claim has a look
    left: the seeds some of its candidates lack and others ran first, then the lowest seeds none of
    them has, never one of ``first_seeds`` (the suite's own, which its first pass may still be
    running). A setting with planned cases still to finish is the caller's to skip. ``schedule``
    is the suite's looks (:func:`bench.analysis.sequential.looks`)."""
    seen = [int(s) for s in first_seeds]
    options = {**options, "looks": len(schedule)}
    requests: dict[tuple, SeedRequest] = {}
    for request in _claim_requests(frame, claims, options, seen, schedule):
        _keep(requests, request)
    for verdict in headline(setting_verdicts(frame, rounds, options), options):
        margin = _margin(verdict)
        if sequential.settled(verdict.decision, verdict.diff, margin):
            continue
        n = verdict.diff.n if verdict.diff is not None else 0
        target = sequential.next_look(n, schedule)
        if target is None:
            continue
        compared = (verdict.best,) if HEADLINES[verdict.kind].within_candidate else (verdict.best, verdict.runner_up)
        configs = _configs(frame, verdict.setting, options, compared)
        seeds = _seeds(frame, [(verdict.setting, configs)], seen, target - n)
        seconds = len(seeds) * _count(frame, verdict.setting, configs) * _case_seconds(frame, verdict.setting)
        value = chance_next_look_decides(verdict.diff, margin, target) / max(seconds, 1e-3)
        if verdict.decided:  # clear but inside the margin: worth seeds only after the open ones
            value *= 0.1
        _keep(requests, SeedRequest(verdict.setting, tuple(seeds), value, seconds, configs,
                                    timed=verdict.scale == "ratio"))
    return sorted(requests.values(), key=lambda r: r.value, reverse=True)


def _claim_requests(frame: pd.DataFrame, claims: Sequence, options: dict, seen: list[int],
                    schedule: tuple[int, ...]) -> list[SeedRequest]:
    """Seeds up to the next look for every setting an open claim reads (both of a trend's); a claim
    has no margin to stop at, so its value is a flat even chance per CPU-second."""
    found = []
    for result in claim_results(frame, claims, options) if claims else []:
        if result.outcome != "open" or result.diff is None:
            continue
        target = sequential.next_look(result.diff.n, schedule)
        if target is None:
            continue
        named = (result.claim.candidate, result.claim.reference)
        reads = [(setting, _configs(frame, setting, options, named)) for setting in result.settings]
        seeds = _seeds(frame, reads, seen, target - result.diff.n)
        for setting, configs in reads:
            missing = tuple(seed for seed in seeds if seed not in _complete(frame, setting, configs))
            if missing:
                seconds = len(missing) * _count(frame, setting, configs) * _case_seconds(frame, setting)
                found.append(SeedRequest(setting, missing, 0.5 / max(seconds, 1e-3), seconds, configs,
                                         timed=result.claim.scale(options) == "ratio"))
    return found


def _complete(frame: pd.DataFrame, setting: dict, configs: frozenset | None) -> set[int]:
    """The seeds at ``setting`` that every candidate of ``configs`` (None: every candidate) has."""
    rows = _in(frame, setting)
    if rows.empty:
        return set()
    keys = rows.apply(lambda row: candidate_key(row["normalizer"], row["axes"]), axis=1) if "axes" in rows \
        else pd.Series("", index=rows.index)
    wanted = configs if configs is not None else set(keys)
    have = [set(rows.loc[keys == key, "seed"].dropna().astype(int)) for key in wanted]
    return set.intersection(*have) if have else set()


def _seeds(frame: pd.DataFrame, reads: list[tuple[dict, frozenset | None]], seen: list[int], count: int) -> tuple:
    """``count`` seeds that a comparison reading ``reads`` (settings and their candidates) lacks:
    first the seeds one of a trend's settings already ran for both candidates (the trend then pairs
    on them), then the lowest seeds no setting has complete, none of ``seen`` (the first pass's).
    A seed only one candidate of a setting has counts as lacking: the engine skips the cases that
    already ran, so a lagging runner-up catches up on its rival's seeds."""
    have = [_complete(frame, setting, configs) for setting, configs in reads]
    taken = set().union(*have) if have else set()
    partial = [seed for seed in sorted(taken - set(seen)) if not all(seed in h for h in have)][:count]
    fresh = (seed for seed in itertools.count() if seed not in taken and seed not in seen)
    return tuple(partial + [next(fresh) for _ in range(count - len(partial))])


def _keep(requests: dict[tuple, SeedRequest], request: SeedRequest) -> None:
    """One request per setting: the most seeds any comparison there asks for, at its best value,
    for every candidate any of them compares."""
    key = tuple(sorted((k, str(v)) for k, v in request.setting.items()))
    held = requests.setdefault(key, request)
    longer = request if len(request.seeds) > len(held.seeds) else held
    configs = None if held.configs is None or request.configs is None else held.configs | request.configs
    seeds = tuple(sorted(set(held.seeds) | set(request.seeds)))
    share = 1.0 if configs is None or not longer.configs else len(configs) / len(longer.configs)
    requests[key] = SeedRequest(held.setting, seeds, max(request.value, held.value),
                                longer.seconds * share * len(seeds) / max(len(longer.seeds), 1), configs,
                                timed=held.timed or request.timed)


def chance_next_look_decides(diff: Difference | None, margin: float, target: int) -> float:
    """If the observed mean and spread are the truth, the chance that ``target`` samples give an
    interval that excludes zero or lies inside the margin (a normal approximation; 0.5 when there
    is no spread to go by yet)."""
    if diff is None or diff.n < 2 or not math.isfinite(diff.sd) or diff.sd <= 0:
        return 0.5
    se = diff.sd / math.sqrt(target)
    q95, q90 = quantiles(diff.looks)
    t95, t90 = scipy_stats.t.ppf(q95, target - 1), scipy_stats.t.ppf(q90, target - 1)
    effect = abs(diff.mean)
    win = scipy_stats.norm.cdf((effect - t95 * se) / se)
    tie = scipy_stats.norm.cdf((margin - effect - t90 * se) / se)
    return float(min(1.0, max(win, tie)))


def _margin(verdict: Verdict) -> float:
    return math.log1p(verdict.margin) if verdict.scale == "ratio" else verdict.margin


def _in(frame: pd.DataFrame, setting: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for key, value in setting.items():
        if key not in frame:
            continue
        if isinstance(value, float) and math.isnan(value):
            mask &= frame[key].isna()
        else:
            mask &= frame[key].astype(str) == str(value)
    return frame[mask]


def _candidates(frame: pd.DataFrame, setting: dict) -> int:
    """Cases one more seed adds at ``setting``: one per configuration recorded there for one seed."""
    rows = _in(frame, setting)
    if rows.empty:
        return 1
    return max(1, int(rows.groupby("seed")["config_hash"].nunique().max()))


def _count(frame: pd.DataFrame, setting: dict, configs: frozenset | None) -> int:
    return _candidates(frame, setting) if configs is None else len(configs)


def _configs(frame: pd.DataFrame, setting: dict, options: dict, names) -> frozenset | None:
    """The :func:`candidate_key` of the candidates ``names`` at ``setting`` (a verdict's best and
    runner-up, a claim's candidate and reference): only they need the seeds. A name may carry a
    field after a colon (``batch (momentum=0.9): acc (inference)``). None, meaning every candidate,
    when a name matches nothing recorded (a label this cannot map)."""
    rows = _in(frame, setting)
    if rows.empty or "axes" not in rows:
        return None
    rows, _ = labelled(rows, {**DEFAULTS, **options})
    found = set()
    for name in (n for n in names if n):
        match = rows[[name == label or name.startswith(f"{label}:") for label in rows["candidate"]]]
        if match.empty:
            return None
        found |= {candidate_key(row["normalizer"], row["axes"]) for _, row in match.iterrows()}
    return frozenset(found) or None


def candidate_key(normalizer: str, axes) -> str:
    """A candidate's identity across seeds: its normalizer and grid values (a record's or a case's)."""
    values = axes if isinstance(axes, dict) else {}
    return f"{normalizer}|" + ";".join(f"{k}={_plain(v)}" for k, v in sorted(values.items()))


def _plain(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(float(value), ".12g")
    return str(value)


def _case_seconds(frame: pd.DataFrame, setting: dict) -> float:
    """A case's expected seconds at ``setting``: the mean, not the median, since a budget pays for the
    sum (a few slow cases, such as the diverging ones that run to the end, count in full)."""
    return case_seconds(_in(frame, setting))


def case_seconds(rows: pd.DataFrame) -> float:
    """The mean reported seconds of ``rows``' cases (FALLBACK_CASE_SECONDS when none reported any)."""
    seconds = rows["case_seconds"].dropna() if "case_seconds" in rows else pd.Series(dtype=float)
    seconds = seconds[seconds > 0]
    return float(seconds.mean()) if len(seconds) else FALLBACK_CASE_SECONDS
