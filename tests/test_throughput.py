"""The pytest-benchmark driver, exercised on plain Python callables (no TensorFlow)."""

import time

from bench.measure.throughput import time_calls


def test_warmup_calls_are_not_timed_and_stats_are_consistent():
    calls = []

    def work():
        calls.append(1)
        time.sleep(0.002)

    timing = time_calls(work, name="w", fullname="normbench::t::w", group="g", min_rounds=5,
                        max_time=0.05, warmup_rounds=3, extra_info={"case_id": "x"})
    assert timing.rounds >= 5
    assert 0.0015 < timing.median < 0.05  # a 2 ms sleep, give or take a loaded machine
    assert timing.min <= timing.median <= timing.max
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
