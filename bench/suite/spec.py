"""The typed form of a suite file, produced only by :mod:`bench.suite.loader`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.analysis.claims import Claim


@dataclass(frozen=True)
class Component:
    """A named dataset or model with its validated options."""

    name: str
    options: dict[str, Any]


@dataclass(frozen=True)
class NormalizerSpec:
    """One entry of a suite's ``normalizers`` mapping: a label, the kind it builds, fixed options."""

    label: str
    kind: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    source: str
    sha256: str
    document: dict[str, Any] = field(repr=False)
    dataset: Component
    model: Component
    models: dict[str, Component]  # by family name: the model axis's variants (else just ``model``)
    settings: dict[str, Any]  # the workload's settings section: ``training`` (model) or ``layer``
    normalizers: tuple[NormalizerSpec, ...]
    grid: dict[str, list]
    seeds: tuple[int, ...]
    devices: tuple[str, ...]
    timing: dict[str, Any]
    verdicts: dict[str, Any]  # what the report compares and the margins of a tie (bench.analysis.headlines.VERDICT_OPTIONS)
    quick: "Suite | None" = field(default=None, repr=False)
    workload: str = "model"  # "layer": a normalization layer timed alone; dataset and model are unused
    claims: tuple[Claim, ...] = ()  # what the suite claims, judged by the report (bench.analysis.claims)
