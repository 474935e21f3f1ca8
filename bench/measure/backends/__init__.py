"""The Keras backends a case runs on, behind one interface: one module per backend, one registry.

A backend module (``tf_backend``, ``jax_backend``, ``torch_backend``) provides what differs between
frameworks and nothing else: ``configure(threads)`` (thread pools, GPU memory), ``framework()``
(versions and GPUs for run.json), ``gpu_unavailable_reason()``, ``device(name)`` (a context
manager placing work on ``cpu`` or ``gpu``), ``Trainer`` (a compiled training step with every
step's loss kept, and batched prediction in either BatchNorm mode), ``layer_function`` (one
layer's timed call that returns when the device is done), ``random_normal`` and
``framework_ceiling`` (the framework's copy ceiling). Model building, datasets, metrics and the
timing rules are shared. Adding a backend is one module and one ``MODULES`` entry.

This file imports no framework: the driver asks it what is installed before any worker starts.
"""

from __future__ import annotations

import importlib
import os
import importlib.util
from importlib import metadata
from types import ModuleType

from bench.normalizers import NORMALIZERS
from bench.suite.catalog import BACKENDS

# How many logical CPU devices a TensorFlow worker makes when it starts, for cases with replicas
# (bench/measure/distributed.py): set by the driver when the run has such cases, read by the worker.
REPLICA_DEVICES = "NORMBENCH_REPLICA_DEVICES"


def replica_devices_wanted() -> int:
    try:
        return max(int(os.environ.get(REPLICA_DEVICES, "1")), 1)
    except ValueError:
        return 1


MODULES = {"tensorflow": "tf_backend", "jax": "jax_backend", "torch": "torch_backend"}
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
assert set(MODULES) == set(BACKENDS), "every catalog backend needs a module here"


def missing_reason(name: str) -> str | None:
    """Why cases on backend ``name`` cannot run in this environment, or None; imports nothing."""
    if importlib.util.find_spec(PACKAGES[name]) is None:
        return f"Keras backend {name!r} is not installed here (pip install {PACKAGES[name]})"
    try:
        major = int(metadata.version("keras").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return "Keras is not installed here"
    if name != "tensorflow" and major < 3:
        return f"Keras {metadata.version('keras')} (Keras 2) runs on TensorFlow only; backend {name!r} needs Keras 3"
    return None


def prepare_environment(name: str) -> None:
    """Set what frameworks read when they load: the Keras backend, JAX's GPU memory taken as needed
    (not 75% up front: workers may share a GPU), and TensorFlow's C++ logging limited to errors
    (its CUDA probing notices are not normbench's business; ``--verbose`` shows the worker log)."""
    os.environ["KERAS_BACKEND"] = name
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load(name: str) -> ModuleType:
    """The backend module for ``name``; call only in a worker whose KERAS_BACKEND is ``name``."""
    return importlib.import_module(f"{__name__}.{MODULES[name]}")


def active() -> ModuleType:
    """The module of the backend Keras was imported with in this process."""
    import keras

    from bench.measure import compat

    return load(keras.backend.backend() if compat.KERAS_3 else "tensorflow")


# What only the TensorFlow backend measures: the features written with TensorFlow ops or tapes.
TENSORFLOW_ONLY = {
    "fine_tune_epochs": "fine-tuning",
    "monitor_statistics": "monitor_statistics",
    "precise_bn_samples": "PreciseBN (precise_bn_samples)",
}


def unsupported(case, backend: str) -> str | None:
    """Why ``case`` cannot be measured on ``backend`` (a skipped record says so), or None."""
    options, settings = case.normalizer_options, case.settings
    if settings.get("replicas", 1) > 1:
        if backend != "tensorflow":
            return (f"replicas run on TensorFlow's MirroredStrategy; backend {backend!r} has no data-parallel "
                    f"trainer here")
        for field, what in TENSORFLOW_ONLY.items():
            if settings.get(field):
                return f"{what} is not measured with replicas > 1"
    if backend == "tensorflow":
        return None
    reason = NORMALIZERS[case.normalizer_kind].unsupported(options, backend)
    if reason:
        return reason
    for field, what in TENSORFLOW_ONLY.items():
        if settings.get(field):
            return f"{what} is measured on the TensorFlow backend only, not {backend!r}"
    return None
