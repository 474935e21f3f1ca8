"""The pytest-benchmark driver, exercised on plain Python callables (no TensorFlow)."""

import time

from bench.measure.throughput import WRITTEN_AGAINST, fixture_options, time_calls


def test_the_private_benchmark_fixture_is_the_release_it_was_written_against():
    """normbench drives pytest-benchmark's private BenchmarkFixture: a different release may take
    other arguments or time differently, so it must be the pinned one, with the same signature."""
    import inspect
    from importlib import metadata

    from pytest_benchmark.fixture import BenchmarkFixture

    assert metadata.version("pytest-benchmark") == WRITTEN_AGAINST, "pyproject pins pytest-benchmark; update " \
        "bench/measure/throughput.py (fixture_options) and WRITTEN_AGAINST together"
    accepted = set(inspect.signature(BenchmarkFixture.__init__).parameters) - {"self", "node"}
    passed = set(fixture_options(min_rounds=1, min_time=0.1, max_time=0.1, group="g", add_stats=print))
    assert passed == accepted


def test_warmup_calls_are_not_timed_and_stats_are_consistent():
    calls = []

    def work():
        calls.append(1)
        time.sleep(0.002)

    timing = time_calls(work, name="w", fullname="normbench::t::w", group="g", min_rounds=5,
                        max_time=0.05, warmup_rounds=3, extra_info={"case_id": "x"})
    assert timing.rounds >= 5
    assert 0.0015 < timing.median < 0.05  # a 2 ms sleep, give or take a loaded machine
    assert len(calls) >= 3 + timing.rounds * timing.iterations


def test_benchmark_dict_has_pytest_benchmark_layout():
    timing = time_calls(lambda: sum(range(100)), name="s", fullname="normbench::t::s", group="g",
                        min_rounds=3, max_time=0.01, warmup_rounds=0, extra_info={"phase": "train"})
    bench = timing.benchmark
    assert bench["fullname"] == "normbench::t::s" and bench["group"] == "g"
    assert bench["extra_info"] == {"phase": "train"}
    assert {"min", "max", "mean", "median", "iqr", "stddev", "rounds", "ops", "data"} <= set(bench["stats"])
    assert len(bench["stats"]["data"]) == timing.rounds
    assert timing.summary()["median"] == bench["stats"]["median"]
