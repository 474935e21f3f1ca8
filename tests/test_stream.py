"""The STREAM-style ceiling: real kernels on small arrays, and the cache-or-memory choice."""

import pytest

from bench.measure import stream


def test_kernels_report_positive_rates_and_the_best_is_the_ceiling():
    rates = stream.stream_bandwidth(1 << 20, threads=2, repeats=2)
    assert set(rates) == {"copy", "scale", "add", "best"}
    assert all(rate > 0 for rate in rates.values())
    assert rates["best"] == max(rates["copy"], rates["scale"], rates["add"])


def test_a_working_set_that_fits_the_cache_is_judged_against_a_cache_sized_copy(monkeypatch):
    sizes = []
    monkeypatch.setattr(stream, "stream_bandwidth", lambda size, threads=None: sizes.append(size) or {"best": 9.0})
    monkeypatch.setattr(stream, "last_level_cache_bytes", lambda: 32 << 20)
    assert stream.ceiling(10 << 20, 2 << 20) == (9.0, "cache-resident") and sizes == [2 << 20]
    # beyond the cache: arrays of twice the cache (at least 64 MiB, at most 256 MiB)
    assert stream.ceiling(100 << 20, 20 << 20) == (9.0, "memory") and sizes[-1] == 64 << 20
    monkeypatch.setattr(stream, "last_level_cache_bytes", lambda: None)
    assert stream.ceiling(1 << 20, 1 << 20)[1] == "memory"


def test_last_level_cache_is_read_from_sysfs_when_present():
    size = stream.last_level_cache_bytes()
    assert size is None or size >= 1 << 16


@pytest.mark.parametrize("threads", [1, 3])
def test_any_thread_count_covers_the_whole_array(threads):
    assert stream.stream_bandwidth(3 * 1024 + 8, threads=threads, repeats=1)["best"] > 0
