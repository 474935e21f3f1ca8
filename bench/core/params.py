"""Typed, validated option sets: the one mechanism behind every suite section.

Each section of a suite (dataset, model, training, timing, a normalizer's options) is a mapping
checked against a table of :class:`Param`. Unknown keys, wrong types and out-of-range values raise
:class:`~bench.core.errors.FieldError` naming the field path and the offending value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bench.core.errors import FieldError

REQUIRED = object()

# Checks return the broken requirement ("must be > 0") or None; Param adds ", got <value>".
Check = Callable[[Any], "str | None"]


def positive(value) -> str | None:
    return None if value > 0 else "must be > 0"


def at_least(low) -> Check:
    def check(value):
        return None if value >= low else f"must be >= {low}"

    return check


def in_unit_interval(value) -> str | None:
    """For moving-average momentum: 1.0 would freeze the statistics at their initial values."""
    return None if 0 <= value < 1 else "must be in [0, 1)"


def fraction_open(value) -> str | None:
    return None if 0 < value < 1 else "must be in (0, 1)"


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list"}


@dataclass(frozen=True)
class Param:
    """One option: its type, default, allowed choices and range check.

    ``item`` gives the element type when ``type`` is ``list`` (e.g. a model's layer widths).
    """

    type: type
    default: Any = REQUIRED
    check: Check | None = None
    choices: tuple = ()
    item: type | None = None
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def parse(self, value, where: str):
        if self.type is list:
            items = _coerce(list, value, where)
            if not items:
                raise FieldError(where, "must not be empty")
            return [self._check_one(self.item, v, f"{where}[{i}]") for i, v in enumerate(items)]
        return self._check_one(self.type, value, where)

    def _check_one(self, kind: type, raw, where: str):
        value = _coerce(kind, raw, where)
        if self.choices and value not in self.choices:
            options = ", ".join(repr(c) for c in self.choices)
            raise FieldError(where, f"must be one of {options}, got {raw!r}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise FieldError(where, f"{problem}, got {raw!r}")
        return value


def _coerce(kind: type, value, where: str):
    """Accept YAML's natural spellings (an int where a float is wanted, '1e-3' strings) and nothing looser."""
    if kind is object:  # a user callable's option (USER_VALUE): any plain scalar, passed on as it is
        if isinstance(value, (str, int, float, bool)):
            return value
        raise FieldError(where, f"must be a string, number or boolean, got {value!r}")
    if kind is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise FieldError(where, f"must be {_TYPE_NAMES[float]}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        raise FieldError(where, f"must be a finite number, got {value!r}")
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if not ok:
        raise FieldError(where, f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}")
    return value


def parse_options(specs: Mapping[str, Param], raw, where: str, *, allow: tuple = ()) -> dict:
    """Validate a mapping against ``specs`` and fill defaults.

    ``allow`` names extra keys the caller handles itself (they are passed through untouched).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise FieldError(where, f"must be a mapping, got {raw!r}")
    unknown = [k for k in raw if k not in specs and k not in allow]
    if unknown:
        known = ", ".join(sorted([*specs, *allow])) or "none"
        raise FieldError(_join(where, str(unknown[0])), f"unknown key (known: {known})")
    parsed = {}
    for name, spec in specs.items():
        if name in raw:
            parsed[name] = spec.parse(raw[name], _join(where, name))
        elif spec.required:
            raise FieldError(_join(where, name), "is required")
        else:
            parsed[name] = list(spec.default) if isinstance(spec.default, list) else spec.default
    for name in allow:
        if name in raw:
            parsed[name] = raw[name]
    return parsed


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


__all__ = ["Param", "REQUIRED", "parse_options", "positive", "at_least", "in_unit_interval",
           "fraction_open"]


# A grid value for an option of the user's own model or normalizer (catalog.OPEN_OPTIONS).
USER_VALUE = Param(object, None, help="an option of your own model or normalizer")
