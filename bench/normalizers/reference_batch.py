"""BatchNorm written in this project from the article's formula (``keras_layers/reference_batch_norm.py``)."""

from __future__ import annotations

from bench.core.params import Param, in_unit_interval
from bench.normalizers import EPSILON, NormalizerKind, register
from bench.normalizers.batch import RENORM
from bench.normalizers.batch import build as build_batch_norm


def build(**options):
    return build_batch_norm(implementation="reference", **options)


KIND = register(NormalizerKind(
    "reference_batch",
    {
        "momentum": Param(float, 0.99, in_unit_interval, help="moving-average decay"),
        "epsilon": EPSILON,
        "center": Param(bool, True),
        "scale": Param(bool, True),
        **RENORM,
    },
    "BatchNorm written in this project from the article's formula "
    "(bench/normalizers/keras_layers/reference_batch_norm.py)",
    build, batch_statistics=True, moving_statistics=True,
    unsupported=lambda options, backend: f"the reference BatchNorm is TensorFlow code; backend {backend!r} "
                                         f"cannot run it"))
