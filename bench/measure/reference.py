"""A fixed piece of work timed next to every case: the machine's own speed at that moment.

Timing rounds within one run cannot see the machine getting slower between runs (another tenant,
thermal limits, a different VM host). ``normbench compare`` divides each case's throughput by the
speed of this kernel measured right before the case was timed, so a run on a slower moment of the
same machine is not called a regression. The kernel mixes the two things normalization steps are
bound by: a small matmul (compute) and a copy larger than the L2 caches (memory traffic).
"""

from __future__ import annotations

import time

import numpy as np

MATMUL_SIZE = 192
COPY_BYTES = 16 * 1024 * 1024


def reference_seconds(repeats: int = 5) -> float:
    """Best of ``repeats`` timings of the fixed kernel, in seconds (about 5 ms each here)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)
    src = np.ones(COPY_BYTES // 4, np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for attempt in range(repeats + 1):  # the first pass warms caches and pages: not counted
        started = time.perf_counter()
        for _ in range(4):
            a = np.tanh(a @ a * np.float32(0.05))
        np.copyto(dst, src)
        if attempt:
            best = min(best, time.perf_counter() - started)
    return best
