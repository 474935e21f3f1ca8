"""The normalizer registry: one module per kind in this package, discovered at import.

Each module registers one :class:`NormalizerKind`: the options a suite may give it, how to build
its Keras layer (a function that imports Keras only when called, in a worker), and the properties
the rest of normbench asks instead of branching on names: whether its training output depends on
the batch (kernel checks), whether it keeps moving statistics (PreciseBN, momentum), whether the
layer before it keeps its bias, what other Keras backends cannot run. Importing this package
imports no framework, so suites validate without TensorFlow. A new normalizer is one module here
(plus its test); its Keras layers, if it needs TensorFlow code, go in ``keras_layers/``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from bench.core.params import Param, positive

EPSILON = Param(float, 1e-3, positive, help="added to the variance before the square root")


@dataclass(frozen=True)
class NormalizerKind:
    """What normbench knows about one kind of normalizer."""

    name: str
    options: Mapping[str, Param]
    summary: str
    build: Callable[..., Any]  # build(**options) -> keras.layers.Layer; imports Keras when called
    batch_statistics: bool = False  # training-mode output depends on the other examples of the batch
    moving_statistics: bool = False  # keeps moving averages used in inference (momentum, PreciseBN)
    keeps_bias: bool = False  # the layer before keeps its bias (nothing after it re-centres)
    open_options: bool = False  # the user's own callable: any other key is passed through to it
    # why a case of this kind cannot run on a Keras backend other than TensorFlow (None: it can)
    unsupported: Callable[[dict, str], "str | None"] = field(default=lambda options, backend: None)
    reference: Callable[..., Any] | None = None  # the paper's formula in NumPy: reference(x, **weights)


NORMALIZERS: dict[str, NormalizerKind] = {}


def register(kind: NormalizerKind) -> NormalizerKind:
    """Make a kind usable in suites (its module calls this at import)."""
    NORMALIZERS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    NORMALIZERS.pop(name, None)


def tensorflow_implementation(options: dict, backend: str) -> str | None:
    """An ``implementation`` other than keras is this project's TensorFlow code."""
    implementation = options.get("implementation", "keras")
    if implementation != "keras":
        return f"implementation {implementation!r} is TensorFlow code; backend {backend!r} runs Keras layers only"
    return None


def _discover() -> None:
    """Import every kind module of this package (not its subpackages); each registers itself."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.ispkg and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_discover()
