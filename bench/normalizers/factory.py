"""Your own normalization layer: ``factory(**options)`` from your module, named in the suite."""

from __future__ import annotations

from bench.core.params import Param
from bench.normalizers import NormalizerKind, register


def build(factory: str, factory_path: str | None = None, **options):
    import keras

    from bench.core.user_objects import load_object

    layer = load_object(factory, factory_path)(**options)
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"{factory}(**options) returned {type(layer).__name__}, not a Keras layer")
    return layer


KIND = register(NormalizerKind(
    "factory",
    {"factory": Param(str, help="package.module:name of a callable returning a Keras layer; the entry's other "
                                "keys are its keyword arguments (bench/suite/user_code.py)")},
    "your own normalization layer, built as factory(**options) from your module",
    build, open_options=True))
