"""The device's memory bandwidth as TensorFlow sees it: the limit a layer's GB/s is compared to.

A 256 MiB (float32) tensor, far larger than any cache, is scaled by 2 in one elementwise op: each
element is read once and written once, which is exactly the traffic of the cheapest possible
normalization. Timed like the layers (pytest-benchmark, warm-up first) on the current device scope.
"""

from __future__ import annotations

import tensorflow as tf

from bench.measure.throughput import copy_rate

COPY_ELEMENTS = 64 * 1024 * 1024


def framework_ceiling(dtype: str, timing: dict, benchmarks: list) -> float:
    """GB/s of a read-once, write-once elementwise kernel over ``COPY_ELEMENTS`` of ``dtype``."""
    x = tf.ones((COPY_ELEMENTS,), dtype=dtype)

    @tf.function
    def scale(x):
        y = x * tf.constant(2, dtype)
        return y, y[:1]  # returning y keeps the whole write; reading y[:1] waits for it

    def fn():
        return scale(x)[1].numpy()

    return copy_rate(fn, dtype, 2 * COPY_ELEMENTS * tf.as_dtype(dtype).size, timing, benchmarks)
