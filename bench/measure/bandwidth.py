"""The device's memory bandwidth as TensorFlow sees it: the limit a layer's GB/s is compared to.

A 256 MiB (float32) tensor, far larger than any cache, is scaled by 2 in one elementwise op: each
element is read once and written once, which is exactly the traffic of the cheapest possible
normalization. Timed like the layers (pytest-benchmark, warm-up first) on the current device scope.
"""

from __future__ import annotations

import tensorflow as tf

from bench import roofline
from bench.measure.throughput import time_calls

COPY_ELEMENTS = 64 * 1024 * 1024


def copy_bandwidth(dtype: str, timing: dict, benchmarks: list) -> float:
    """GB/s of a read-once, write-once elementwise kernel over ``COPY_ELEMENTS`` of ``dtype``."""
    x = tf.ones((COPY_ELEMENTS,), dtype=dtype)

    @tf.function
    def scale(x):
        y = x * tf.constant(2, dtype)
        return y, y[:1]  # returning y keeps the whole write; reading y[:1] waits for it

    def fn():
        return scale(x)[1].numpy()

    result = time_calls(fn, name=f"copy[{dtype}]", fullname=f"normbench::bandwidth::copy[{dtype}]",
                        group="bandwidth", extra_info={"phase": "bandwidth", "dtype": dtype},
                        min_rounds=max(timing["min_rounds"], 5), max_time=timing["max_time"],
                        warmup_rounds=max(timing["warmup_rounds"], 1))
    benchmarks.append(result.benchmark)
    bytes_moved = 2 * COPY_ELEMENTS * tf.as_dtype(dtype).size
    return roofline.gigabytes_per_second(bytes_moved, result.median)
