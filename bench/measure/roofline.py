"""Memory-traffic arithmetic for the layer suites: how many bytes a normalization layer must move
at least, and what fraction of the device's measured bandwidth a timing achieves. Pure functions.

Normalization does a few flops per element, so its floor is memory traffic. The compulsory traffic
counted here is the activations only (the per-channel parameters and statistics are tiny):

- forward: read x, write y                                   -> 2 tensors
- forward + backward: the forward, then read x and dy, write dx -> 5 tensors

A tensor is batch x prod(shape) elements of ``element_bytes(dtype)`` bytes. BatchNorm in training
mode needs the batch statistics before it can write y; once the tensor outgrows the caches that
means a second read of x, so its achievable fraction of bandwidth is about 2/3 of the others'.
"""

from __future__ import annotations

import math
from typing import Sequence

TENSORS_MOVED = {"forward": 2, "forward_backward": 5}
ELEMENT_BYTES = {"float32": 4, "mixed_float16": 2, "mixed_bfloat16": 2, "float16": 2, "bfloat16": 2}


def element_bytes(dtype: str) -> int:
    """Bytes per activation element under a Keras dtype policy (mixed policies compute in 16 bits)."""
    try:
        return ELEMENT_BYTES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}") from None


def minimum_bytes(batch_size: int, shape: Sequence[int], dtype: str, pass_: str) -> int:
    """The activation bytes one call must read and write at least (see the module docstring)."""
    if pass_ not in TENSORS_MOVED:
        raise ValueError(f"unknown pass {pass_!r}")
    return TENSORS_MOVED[pass_] * batch_size * math.prod(shape) * element_bytes(dtype)


def gigabytes_per_second(bytes_moved: float, seconds: float) -> float:
    """Achieved bandwidth in GB/s (10^9 bytes per second, as memory bandwidth is quoted)."""
    if seconds <= 0 or not math.isfinite(seconds):
        raise ValueError(f"seconds must be positive and finite, got {seconds}")
    return bytes_moved / seconds / 1e9


def bandwidth_fraction(achieved_gb_per_s: float, limit_gb_per_s: float) -> float:
    if limit_gb_per_s <= 0:
        raise ValueError(f"the bandwidth limit must be positive, got {limit_gb_per_s}")
    return achieved_gb_per_s / limit_gb_per_s


def coefficient_of_variation(stddev: float, mean: float) -> float:
    """Standard deviation over mean of repeated timings: the measurement's own noise."""
    return stddev / mean if mean > 0 else math.nan
