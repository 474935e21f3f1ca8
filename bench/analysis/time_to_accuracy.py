"""Time to accuracy compared across candidates, with "not reached" treated as censored.

A case with a ``quality_target`` records the steps at which its held-out accuracy first reached it
and the time that implies (``time_to_target_seconds``: steps x the median timed train step). A
case that never reached it is *censored*: its time is known only to exceed its budget, the steps of
its last evaluation times the same step cost. At one setting each candidate is summed up by the
share of its seeds that reached the target (with a Wilson 95% interval) and its median time, the
time by which half its seeds had reached it (None when fewer than half did).

Two candidates are compared by the ratio of their times, seed-paired on the log scale with the
intervals every verdict uses (:mod:`bench.analysis.stats`). A censored time enters as its budget,
a bound on one side: when only the candidate has censored seeds the computed ratio is a lower
bound of the true one, so only "clearly slower" can be concluded; when only the reference has
them, only "clearly faster". Anything else with censoring stays open: more seeds can settle it only
in the direction its bounds allow, a longer training in either. With ``verdicts.baseline`` each candidate is
compared with the baseline ("GN reaches 0.90 in 1.8x BN's time"); without it, the fastest against
the runner-up. The tie margin is ``verdicts.throughput`` (relative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats as scipy_stats

from bench.analysis.comparisons import Verdict
from bench.analysis.sentences import listed, setting_text
from bench.analysis.stats import Decision, Difference, decide, difference

FIELD = "time_to_target_seconds"


def wilson(reached: int, seeds: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the share ``reached / seeds`` (sound at 0 and at every seed)."""
    if seeds == 0:
        return math.nan, math.nan
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    share = reached / seeds
    centre = (share + z * z / (2 * seeds)) / (1 + z * z / seeds)
    half = z * math.sqrt(share * (1 - share) / seeds + z * z / (4 * seeds * seeds)) / (1 + z * z / seeds)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Reach:
    """One candidate's seeds at one setting: seconds to the target where reached (``times``), the
    budget it exceeded where not (``bounds``)."""

    candidate: str
    times: dict[int, float] = field(default_factory=dict)
    bounds: dict[int, float] = field(default_factory=dict)

    @property
    def seeds(self) -> int:
        return len(self.times) + len(self.bounds)

    @property
    def reached(self) -> int:
        return len(self.times)

    @property
    def median(self) -> float | None:
        """The time by which half the seeds had reached the target (the Kaplan-Meier median when
        every budget exceeds every reached time); None when fewer than half reached it."""
        needed = math.ceil(self.seeds / 2)
        if self.seeds == 0 or self.reached < needed:
            return None
        return sorted(self.times.values())[needed - 1]

    def log_times(self) -> dict[int, float]:
        """Seed -> log seconds, a censored seed at its budget's log."""
        return {seed: math.log(t) for seed, t in {**self.times, **self.bounds}.items() if t > 0}

    def text(self) -> str:
        low, high = wilson(self.reached, self.seeds)
        median = "no median" if self.median is None else f"median {self.median:.3g} s"
        return f"{self.reached}/{self.seeds} reached [{low:.2f}, {high:.2f}], {median}"


def reaches(group: pd.DataFrame) -> dict[str, Reach]:
    """Each candidate's :class:`Reach` from the records of one setting that set a quality target
    and were timed (an untimed case has no time and is left out)."""
    found = {}
    for name, sub in group.groupby("candidate"):
        times, bounds = {}, {}
        for _, row in sub.iterrows():
            step_seconds = row.get("train_median_s")
            if _missing(row.get("quality_target")) or _missing(step_seconds):
                continue
            reached = not _missing(row.get("target_reached")) and bool(row["target_reached"])
            if reached and not _missing(row.get(FIELD)):
                times[int(row["seed"])] = float(row[FIELD])
            elif not reached:
                bounds[int(row["seed"])] = _budget_steps(row) * float(step_seconds)
        if times or bounds:
            found[str(name)] = Reach(str(name), times, bounds)
    return found


def _budget_steps(row) -> float:
    """The steps of the last held-out evaluation (the training's end), else every step run."""
    evaluations = row.get("target_evaluations")
    if isinstance(evaluations, list) and evaluations and isinstance(evaluations[-1], dict):
        return float(evaluations[-1].get("step") or 0)
    return 0.0 if _missing(row.get("steps")) else float(row["steps"])


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class TimeVerdict(Verdict):
    """A time-to-accuracy comparison: ``best`` is the candidate, ``runner_up`` the reference,
    ``diff`` the log of candidate time over reference time."""

    target: float = math.nan
    candidate_reach: Reach | None = None
    reference_reach: Reach | None = None
    censoring: str = ""  # "", or which side has censored seeds: candidate, reference, both

    def best_text(self) -> str:
        return f"{self.best}: {self.candidate_reach.text()}"

    def effect_text(self) -> str:
        if self.runner_up is None or self.diff is None or math.isnan(self.diff.mean):
            return f"neither reached {self.target:g}" if self.decision.outcome == "all failed" else ""
        bound = {"candidate": "at least ", "reference": "at most "}.get(self.censoring, "")
        d = self.diff
        interval = "" if math.isnan(d.low95) else f" [{math.exp(d.low95):.2f}, {math.exp(d.high95):.2f}]"
        return f"{bound}{math.exp(d.mean):.2f}x{interval} {self.runner_up}'s time"

    def verdict_text(self) -> str:
        if self.decision.outcome == "all failed":
            return f"neither reached {self.target:g} in any seed"
        if self.decision.outcome == "open" and self.censoring:
            who = {"candidate": self.best, "reference": self.runner_up}.get(self.censoring, "both")
            return (f"open: {who} did not reach {self.target:g} in every seed (its times there are bounds; "
                    f"a longer training would settle it)")
        return super().verdict_text()


def against_reference(kind: str, setting: dict, group: pd.DataFrame, options: dict, rounds: dict) -> list[Verdict]:
    """With a baseline, every other candidate's time to the target against the baseline's; without
    one, the fastest candidate's against the runner-up's."""
    targets = group["quality_target"].dropna().unique() if "quality_target" in group else []
    if len(targets) != 1:  # no target here, or merged runs with different ones: different questions
        return []
    found = reaches(group)
    if not found:
        return []
    baseline = options.get("baseline") or ""
    matches = [name for name in found if baseline and (name == baseline or name.startswith(f"{baseline} ("))]
    if baseline and len(matches) == 1:
        pairs = [(found[name], found[matches[0]]) for name in found if name != matches[0]]
    elif baseline:
        return []
    else:
        ranked = sorted(found.values(), key=_speed_rank)
        if len(ranked) == 1:
            return []
        pairs = [(ranked[0], ranked[1])]
    return [compare(kind, setting, float(targets[0]), mine, reference, options["throughput"], options.get("looks", 1))
            for mine, reference in pairs]


def _speed_rank(reach: Reach) -> tuple:
    """Fastest first: the shorter median, then the larger share reached, then the shorter mean log time."""
    logs = reach.log_times()
    return (reach.median if reach.median is not None else math.inf, -reach.reached / max(reach.seeds, 1),
            sum(logs.values()) / len(logs) if logs else math.inf)


def compare(kind: str, setting: dict, target: float, mine: Reach, reference: Reach, margin: float,
            looks: int = 1) -> TimeVerdict:
    """``mine`` against ``reference``: the ratio of their times with its interval (widened over a
    budgeted run's ``looks``), decided only in the direction that censoring leaves sound (see the
    module's docstring)."""
    value = mine.median if mine.median is not None else math.nan
    common = set(mine.times) | set(mine.bounds)
    both_censored = [s for s in common if s in mine.bounds and s in reference.bounds]
    if not mine.times and not reference.times:
        empty = Difference(math.nan, math.nan, math.nan, math.nan, math.nan, 0, math.nan, False)
        return TimeVerdict(setting, kind, mine.candidate, value, reference.candidate, empty, Decision("all failed"),
                           margin, "ratio", target, mine, reference, "both")
    mine_logs = {s: v for s, v in mine.log_times().items() if s not in both_censored}
    reference_logs = {s: v for s, v in reference.log_times().items() if s not in both_censored}
    diff = difference(mine_logs, reference_logs, looks)
    censoring = _censoring(mine, reference, set(both_censored))
    decision = decide(diff, math.log1p(margin))
    if censoring and decision.outcome in ("winner", "tie", "open"):
        slower_for_sure = censoring == "candidate" and decision.outcome == "winner" and diff.mean > 0
        faster_for_sure = censoring == "reference" and decision.outcome == "winner" and diff.mean < 0
        if not (slower_for_sure or faster_for_sure):
            decision = Decision("open")  # seeds would not settle it: the censored times are bounds
    return TimeVerdict(setting, kind, mine.candidate, value, reference.candidate, diff, decision, margin, "ratio",
                       target, mine, reference, censoring)


def _censoring(mine: Reach, reference: Reach, dropped: set[int]) -> str:
    """Which side's compared seeds include censored times."""
    candidate = bool(set(mine.bounds) - dropped)
    other = bool(set(reference.bounds) - dropped)
    return "both" if candidate and other else "candidate" if candidate else "reference" if other else ""


def sentences(verdicts: list[Verdict], options: dict) -> list[str]:
    """How many comparisons are decided, then each decided one as "X reaches T in r x Y's time"."""
    verdicts = [v for v in verdicts if isinstance(v, TimeVerdict) and v.runner_up]
    if not verdicts:
        return []
    outcome = [v.decision.outcome for v in verdicts]
    targets = ", ".join(f"{t:g}" for t in sorted({v.target for v in verdicts}))
    found = [f"Time to accuracy {targets} (steps to the target x the timed step cost; a seed that never "
             f"reached it counts as censored at its budget), {len(verdicts)} comparison(s): "
             f"{outcome.count('winner')} clear, {outcome.count('tie')} equivalent within "
             f"±{verdicts[0].margin:.0%}, {outcome.count('all failed')} where neither reached it, "
             f"{outcome.count('open') + outcome.count('one sample')} open."]
    clear = [v for v in verdicts if v.decision.outcome in ("winner", "tie")]
    lines = [f"{v.best} reaches {v.target:g} in {v.effect_text()} at {setting_text(v.setting)} "
             f"({v.candidate_reach.reached}/{v.candidate_reach.seeds} and "
             f"{v.reference_reach.reached}/{v.reference_reach.seeds} seeds reached it)" for v in clear]
    if lines:
        found.append(listed(lines) + ".")
    return found
