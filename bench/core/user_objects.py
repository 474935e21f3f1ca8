"""Import a user's own callable, named ``package.module:name``, from the suite file's folder first.

Importing user code is the user's explicit choice: a suite names the module. The suite loader uses
this to check a factory's signature, the workers to build what it makes.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


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
