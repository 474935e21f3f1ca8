"""Time a step function with pytest-benchmark's calibrated rounds, outside of a pytest session.

pytest-benchmark normally runs as a fixture inside pytest; here its ``BenchmarkFixture`` is driven
directly so each case can be timed in the middle of a run, and its ``Metadata`` objects are written
in pytest-benchmark's own JSON layout so ``pytest-benchmark compare`` reads normbench runs.
Warm-up calls happen before the fixture starts, so tracing never falls inside a timed round.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Sequence

from pytest_benchmark.fixture import BenchmarkFixture
from pytest_benchmark.logger import Logger
from pytest_benchmark.stats import Metadata
from pytest_benchmark.utils import NameWrapper

from bench.measure import roofline


# BenchmarkFixture is pytest-benchmark's private class (its public API is the pytest fixture): the
# keyword arguments below are those of this release, pinned in pyproject.toml; tests/test_throughput.py
# fails when the installed release is another one or the class's signature changed.
WRITTEN_AGAINST = "5.3.1"


def fixture_options(*, min_rounds: int, min_time: float, max_time: float, group: str, add_stats) -> dict:
    """Every keyword ``BenchmarkFixture.__init__`` takes besides the node, as the plugin would pass them
    with ``--benchmark-disable-gc=no --benchmark-warmup=no`` and a quiet logger."""
    return dict(disable_gc=False, timer=NameWrapper(time.perf_counter), min_rounds=min_rounds, min_time=min_time,
                max_time=max_time, precision=None, confidence=None, warmup=False, warmup_iterations=0,
                calibration_precision=10, add_stats=add_stats, logger=Logger(Logger.QUIET), warner=warnings.warn,
                disabled=False, cprofile=False, cprofile_loops=None, cprofile_dump=None, group=group)


@dataclass(frozen=True)
class _Node:
    """The two attributes of a pytest item that BenchmarkFixture reads."""

    name: str
    nodeid: str


@dataclass(frozen=True)
class Timing:
    """Seconds per call, with spread, and pytest-benchmark's own record of the measurement."""

    median: float
    mean: float
    iqr: float
    stddev: float
    min: float
    max: float
    rounds: int
    iterations: int
    benchmark: dict

    def summary(self) -> dict:
        return {"median": self.median, "mean": self.mean, "iqr": self.iqr, "stddev": self.stddev, "min": self.min,
                "max": self.max, "rounds": self.rounds, "iterations": self.iterations}


def time_calls(fn: Callable[[], object], *, name: str, fullname: str, group: str, min_rounds: int,
               max_time: float, warmup_rounds: int, round_time: float = 0.0,
               extra_info: dict | None = None) -> Timing:
    """Call ``fn`` ``warmup_rounds`` times untimed, then let pytest-benchmark calibrate and time it.

    ``fn`` must block until its result is ready (e.g. end with ``.numpy()``), so the clock is read
    after the work, not after it was queued. ``round_time`` > 0 makes each timed round repeat the
    call until the round lasts that long (pytest-benchmark's calibration), so a round's time is a
    mean over several calls and scheduler noise averages out; reported times stay per call.
    """
    for _ in range(warmup_rounds):
        fn()
    collected: list[Metadata] = []
    fixture = BenchmarkFixture(_Node(name, fullname), **fixture_options(
        min_rounds=min_rounds, min_time=max(round_time, 0.000005), max_time=max_time, group=group,
        add_stats=collected.append))
    fixture.extra_info.update(extra_info or {})
    fixture(fn)
    meta = collected[0]
    stats = meta.stats
    return Timing(median=stats.median, mean=stats.mean, iqr=stats.iqr, stddev=stats.stddev, min=stats.min,
                  max=stats.max, rounds=stats.rounds, iterations=meta.iterations,
                  benchmark=meta.as_dict(include_data=True))


@dataclass(frozen=True)
class Member:
    """One step function of an interleaved group: its names (as :func:`time_calls` takes them) and the
    context each of its rounds runs in (its case's device and dtype policy), entered outside the clock."""

    fn: Callable[[], object]
    name: str
    fullname: str
    group: str
    extra_info: dict = field(default_factory=dict)
    context: Callable[[], ContextManager] = contextlib.nullcontext


def time_interleaved(members: Sequence[Member], *, timing_group: str, min_rounds: int, max_time: float,
                     warmup_rounds: int, round_time: float = 0.0) -> list[Timing]:
    """Time several step functions round by round in turn, so a slow spell of the machine (another
    process, a warm or cold cache, a clock change) falls on all of them alike and the paired per-round
    ratios cancel it (bench.analysis.paired_timing).

    Each member is warmed up and calibrated by pytest-benchmark as :func:`time_calls` does; then every
    member runs the same number of rounds, the order reversed every other round (ABBA...: a linear
    drift within a round lands on each position equally). The group spends what its members would
    have spent alone: ``len(members) * max_time`` seconds, at least ``min_rounds`` rounds. Each
    benchmark's ``extra_info`` records ``timing_group`` and ``round_starts`` (seconds since the group's
    first round): round r of one member is paired with round r of the others.
    """
    session = Interleaved(members, timing_group=timing_group, min_rounds=min_rounds, max_time=max_time,
                          warmup_rounds=warmup_rounds, round_time=round_time)
    for r in range(rounds_for(len(members), session.round_seconds, min_rounds, max_time)):
        session.run_round(r)
    return session.timings()


def rounds_for(members: int, round_seconds: float, min_rounds: int, max_time: float) -> int:
    """Rounds for members whose rounds together last ``round_seconds``: what they would have spent
    alone (``members * max_time``), at least ``min_rounds``."""
    return max(min_rounds, math.ceil(members * max_time / max(round_seconds, 1e-9)))


class Interleaved:
    """Members warmed up and calibrated, then timed a round at a time (:meth:`run_round`), so a caller
    can interleave their rounds with other work's: :func:`time_interleaved` runs all rounds here; a
    group spread over one worker per Keras backend runs one session per worker, the driver
    alternating the workers round by round (bench.execute.across_backends)."""

    def __init__(self, members: Sequence[Member], *, timing_group: str, min_rounds: int, max_time: float,
                 warmup_rounds: int, round_time: float = 0.0):
        self.members = list(members)
        self.fixtures, self.runners, durations, self.loops = [], [], [], []
        for member in self.members:
            fixture = BenchmarkFixture(_Node(member.name, member.fullname), **fixture_options(
                min_rounds=min_rounds, min_time=max(round_time, 0.000005), max_time=max_time, group=member.group,
                add_stats=lambda meta: None))
            fixture.extra_info.update(member.extra_info, timing_group=timing_group)
            fixture._mode = "benchmark(...)"  # used: the fixture warns about an unused one otherwise
            runner = fixture._make_runner(member.fn, (), {})
            with member.context():
                for _ in range(warmup_rounds):
                    member.fn()
                duration, iterations, loops_range = fixture._calibrate_timer(runner)
            self.fixtures.append(fixture)
            self.runners.append(runner)
            durations.append(max(duration, 1e-9))  # one round: ``iterations`` calls
            self.loops.append((iterations, loops_range))
        self.round_seconds = sum(durations)
        self.metas = [fixture._make_stats(iterations) for fixture, (iterations, _) in zip(self.fixtures, self.loops)]
        self.starts: list[list[float]] = [[] for _ in self.members]
        self.origin = time.perf_counter()

    def run_round(self, r: int) -> None:
        """Round ``r`` of every member, in reverse order on odd rounds."""
        order = range(len(self.members)) if r % 2 == 0 else reversed(range(len(self.members)))
        for i in order:
            with self.members[i].context():
                self.starts[i].append(round(time.perf_counter() - self.origin, 6))
                self.metas[i].update(self.runners[i](self.loops[i][1]))

    def timings(self) -> list[Timing]:
        timings = []
        for fixture, meta, started in zip(self.fixtures, self.metas, self.starts):
            fixture.extra_info["round_starts"] = started
            stats = meta.stats
            timings.append(Timing(median=stats.median, mean=stats.mean, iqr=stats.iqr, stddev=stats.stddev,
                                  min=stats.min, max=stats.max, rounds=stats.rounds, iterations=meta.iterations,
                                  benchmark=meta.as_dict(include_data=True)))
        return timings


def copy_rate(fn: Callable[[], object], dtype: str, bytes_moved: int, timing: dict, benchmarks: list) -> float:
    """GB/s of a blocking elementwise-copy call ``fn`` that moves ``bytes_moved``: every backend's
    framework ceiling is timed this way (at least 5 rounds, one warm-up), its entry appended to
    ``benchmarks``."""
    result = time_calls(fn, name=f"copy[{dtype}]", fullname=f"normbench::bandwidth::copy[{dtype}]",
                        group="bandwidth", extra_info={"phase": "bandwidth", "dtype": dtype},
                        min_rounds=max(timing["min_rounds"], 5), max_time=timing["max_time"],
                        warmup_rounds=max(timing["warmup_rounds"], 1))
    benchmarks.append(result.benchmark)
    return roofline.gigabytes_per_second(bytes_moved, result.median)
