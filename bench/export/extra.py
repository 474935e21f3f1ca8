"""The ``export`` extra's packages, imported on demand: a missing one is a one-line error."""

from __future__ import annotations

import importlib
from types import ModuleType

from bench.core.errors import NormbenchError


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or say in one line how to install it (it is not in the default install)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise NormbenchError(f"{purpose} needs {module.split('.')[0]}, which is not installed "
                             f"({exc.name or exc}): pip install normbench[export]") from None
