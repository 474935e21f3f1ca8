"""A user's own model factory or normalization layer, named in a suite as ``package.module:name``.

Importing user code is the user's explicit choice: a suite names the module, and normbench imports
it from the suite file's folder (then ``sys.path``), in the driver when the suite is loaded (so a
missing module, name or wrong signature stops the suite with one line) and in each worker that runs
a case. YAML object tags stay refused: the suite loader reads with ``yaml.safe_load``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import inspect
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
PLAIN_TYPES = (str, int, float, bool)
MODEL_PARAMETERS = ("input_shape", "classes", "normalization")


def load_object(reference: str, folder: str | None) -> Any:
    """``package.module:attribute`` imported with ``folder`` searched first; ValueError with one line."""
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        raise ValueError(f"must be 'package.module:name', got {reference!r}")
    module_name, _, attribute = reference.partition(":")
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        target = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} (searched {folder or '.'} and sys.path): {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module raised while importing
        raise ValueError(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} ({getattr(importlib.import_module(module_name), '__file__', '?')}) "
                             f"has no {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{reference} is not callable")
    return target


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


def check_builds(suite, cases) -> None:
    """``normbench check``: build what a suite's own model factory, saved model or normalizer makes,
    once per normalizer, for the dataset's shape (or the layer suite's shape); one that fails stops
    the check with one line. Imports Keras: only suites that name user code get here."""
    from bench import catalog
    from bench.errors import SuiteError

    users = [c for c in cases if c.kind in catalog.OPEN_OPTIONS or c.model in (*catalog.OPEN_OPTIONS, "file")]
    seen = set()
    for case in users:
        key = (case.normalizer, json.dumps([case.normalizer_options, case.model_options], sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        field = {"factory": "model.factory", "file": "model.file"}.get(case.model,
                                                                       f"normalizers.{case.normalizer}.factory")
        try:
            with framework_output_hidden():
                _build_once(case)
        except Exception as exc:  # noqa: BLE001 - the user's code: any error is theirs to read
            raise SuiteError(suite.source, field, f"building for {case.case_id} raised "
                                                  f"{type(exc).__name__}: {exc}".splitlines()[0][:400]) from None


def _build_once(case) -> None:
    from bench import catalog
    from bench.measure.compat import zeros
    from bench.measure.layers import build_normalizer

    if case.suite_kind == "layer":
        build_normalizer(case.kind, case.normalizer_options)(
            zeros((2, *catalog.LAYER_SHAPES[case.training["shape"]])), training=False)
        return
    from bench.data import load_dataset
    from bench.measure.models import build_model

    dataset = load_dataset(case.dataset, case.dataset_options)
    model = build_model(case.model, case.model_options, dataset.input_shape, dataset.classes, case.kind,
                        case.normalizer_options)
    model(dataset.x_test[:2], training=False)
