"""A user's own model factory or normalization layer, named in a suite as ``package.module:name``.

Importing user code is the user's explicit choice: a suite names the module, and normbench imports
it from the suite file's folder (then ``sys.path``), in the driver when the suite is loaded (so a
missing module, name or wrong signature stops the suite with one line) and in each worker that runs
a case. YAML object tags stay refused: the suite loader reads with ``yaml.safe_load``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

from bench.core.user_objects import load_object  # noqa: F401 - the loader's and tests' entry

PLAIN_TYPES = (str, int, float, bool)
MODEL_PARAMETERS = ("input_shape", "classes", "normalization")


@contextlib.contextmanager
def framework_output_hidden():
    """Importing user code in the driver usually imports Keras and its framework, which print their
    start-up notices straight to file descriptors 1 and 2; they are dropped here (errors still
    surface as exceptions, and workers keep theirs in worker.log)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)


def check_plain(options: dict, where: str) -> None:
    """User options travel to workers as JSON: strings, numbers, booleans and lists of them."""
    for key, value in options.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, PLAIN_TYPES) for v in items):
            raise ValueError(f"{where}.{key}: must be a string, number, boolean or a list of them, got {value!r}")


def check_model_factory(factory: Callable, options: dict) -> None:
    """``factory(input_shape, classes, normalization, **options)`` must bind."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to check before calling it
    try:
        signature.bind(*MODEL_PARAMETERS, **options)
    except TypeError as exc:
        raise ValueError(f"cannot be called as factory(input_shape, classes, normalization, "
                         f"{', '.join(f'{k}=...' for k in options) or '**options'}): {exc}") from None


def check_layer_factory(factory: Callable, options: dict) -> None:
    """``factory(**options)`` must bind (the layer itself is built in the worker)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        raise ValueError(f"cannot be called with the options {sorted(options)}: {exc}") from None


def folder_of(source: str) -> str:
    """The folder user code is imported from: the suite file's own (cwd for suites without a file)."""
    if source and not source.startswith("<"):
        return str(Path(source).resolve().parent)
    return str(Path.cwd())


def split_options(options: dict) -> tuple[str, str | None, dict]:
    """(reference, folder, the user's own options) of a factory component's resolved options."""
    rest = {k: v for k, v in options.items() if k not in ("factory", "factory_path")}
    return options["factory"], options.get("factory_path"), rest
