"""Bytes-moved formulas and GB/s arithmetic against literal numbers."""

import math

import pytest

from bench.measure import roofline


def test_minimum_bytes_forward_and_backward():
    # 64 x 32 x 32 x 64 float32 = 16 MiB; forward reads and writes it once
    assert roofline.minimum_bytes(64, (32, 32, 64), "float32", "forward") == 2 * 16 * 2**20
    # forward + backward: read x, write y, read x, read dy, write dx
    assert roofline.minimum_bytes(64, (32, 32, 64), "float32", "forward_backward") == 5 * 16 * 2**20
    # 16-bit compute halves it: 16 x 128 x 768 x 2 bytes = 3 MiB per tensor
    assert roofline.minimum_bytes(16, (128, 768), "mixed_bfloat16", "forward") == 2 * 3 * 2**20


def test_gigabytes_per_second_and_fraction():
    assert roofline.gigabytes_per_second(33_554_432, 0.004) == pytest.approx(8.388608)
    assert roofline.bandwidth_fraction(10.0, 40.0) == 0.25
    assert roofline.coefficient_of_variation(0.5, 10.0) == 0.05
    assert math.isnan(roofline.coefficient_of_variation(0.5, 0.0))


@pytest.mark.parametrize("call", [
    lambda: roofline.minimum_bytes(1, (4,), "float64", "forward"),
    lambda: roofline.minimum_bytes(1, (4,), "float32", "backward"),
    lambda: roofline.gigabytes_per_second(100, 0.0),
    lambda: roofline.bandwidth_fraction(1.0, 0.0),
])
def test_nonsense_is_refused(call):
    with pytest.raises(ValueError):
        call()
