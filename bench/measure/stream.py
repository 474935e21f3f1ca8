"""The machine's own memory ceiling, measured as STREAM does: what the layer suite's GB/s is judged by.

STREAM (McCalpin) times simple kernels over preallocated arrays and reports the best of several
repeats. Here copy (``c = a``), scale (``b = s * c``) and add (``c = a + b``) run as single-pass
numpy ufuncs with ``out=`` (no allocation inside the timing), split into one contiguous chunk per
thread so they use the cores the case holds; numpy releases the GIL inside each chunk. STREAM's
triad needs two passes in numpy and is left out rather than miscounted. The ceiling is the best
rate of the three kernels.

TensorFlow's own elementwise rate (``bench.measure.bandwidth``) allocates a fresh output on every
call and is kept beside it as the *framework* ceiling: it answers "how close is the layer to the
best TensorFlow op", this one "how close is it to the hardware".
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

KERNELS = {"copy": 2, "scale": 2, "add": 3}  # arrays each kernel reads or writes once per element


def last_level_cache_bytes() -> int | None:
    """The largest CPU cache's size from sysfs (Linux), or None where it cannot be read."""
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = path.read_text().strip().upper()
        try:
            sizes.append(int(text[:-1]) * {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[text[-1]]
                         if text[-1] in "KMG" else int(text))
        except (ValueError, KeyError):
            continue
    return max(sizes) if sizes else None


def stream_bandwidth(array_bytes: int, threads: int | None = None, repeats: int = 7) -> dict[str, float]:
    """GB/s of each kernel over float32 arrays of ``array_bytes`` each (best of ``repeats``), and
    ``best``: the ceiling."""
    threads = max(1, threads or os.cpu_count() or 1)
    n = max(1024, array_bytes // 4)
    a, b, c = np.ones(n, np.float32), np.full(n, 2.0, np.float32), np.zeros(n, np.float32)
    bounds = [(n * i // threads, n * (i + 1) // threads) for i in range(threads)]
    kernels = {
        "copy": lambda lo, hi: np.copyto(c[lo:hi], a[lo:hi]),
        "scale": lambda lo, hi: np.multiply(c[lo:hi], np.float32(3.0), out=b[lo:hi]),
        "add": lambda lo, hi: np.add(a[lo:hi], b[lo:hi], out=c[lo:hi]),
    }
    # small (cache-sized) arrays: repeat the kernel inside one timed call so thread hand-off
    # overhead (tens of microseconds) stays small against the work
    inner = max(1, (64 * 1024 ** 2) // (n * 4))

    def run(kernel, span):
        for _ in range(inner):
            kernel(*span)

    rates = {}
    with ThreadPoolExecutor(threads) as pool:
        for name, kernel in kernels.items():
            best = math.inf
            for attempt in range(repeats + 1):  # the first call faults the pages in: not counted
                started = time.perf_counter()
                list(pool.map(lambda span: run(kernel, span), bounds))
                if attempt:
                    best = min(best, time.perf_counter() - started)
            rates[name] = KERNELS[name] * n * 4 * inner / best / 1e9
    rates["best"] = max(rates.values())
    return rates


def ceiling(working_set_bytes: int, tensor_bytes: int, threads: int | None = None) -> tuple[float, str]:
    """(GB/s, kind) to judge a layer by. A call whose working set fits in the last-level cache is
    ``cache-resident`` and compared with a copy of arrays the size of its tensor; otherwise the
    ceiling is ``memory``: arrays of twice the cache (STREAM's rule is four), but at least 64 MiB
    and at most 256 MiB each, so a case's ceiling takes about a second to measure."""
    cache = last_level_cache_bytes()
    if cache is not None and working_set_bytes <= cache:
        return stream_bandwidth(tensor_bytes, threads)["best"], "cache-resident"
    size = max(64 * 1024 ** 2, min(2 * (cache or 0), 256 * 1024 ** 2), tensor_bytes)
    return stream_bandwidth(size, threads)["best"], "memory"
