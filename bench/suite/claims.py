"""A suite's ``claims`` section: parsed into :class:`bench.analysis.claims.Claim` and checked against
the suite, so a claim that names a setting outside the grid, a candidate the suite lacks or a field
no record has is a one-line load error (``claims[2].where.batch_size: 3 is not in the grid (2, 8,
32)``), never a claim the report silently cannot judge.
"""

from __future__ import annotations

import reprlib
from typing import Any, Mapping, Sequence

from bench.analysis.claims import CLAIM_KEYS, CLAIM_OPTIONS, EXPECTATIONS, Claim, _text
from bench.core.errors import FieldError
from bench.core.params import parse_options

SCALARS = (str, int, float, bool)


def parse_claims(raw: Any, verdicts: Mapping, labels: Sequence[str] | None = None,
                 axes: Mapping[str, list] | None = None, prune: bool = False) -> tuple[tuple[Claim, ...], list]:
    """The claims of a ``claims`` list, and the list as it was kept. ``labels`` are the suite's
    normalizer labels and ``axes`` its grid axes (plus ``device``) with their values; without them
    (a report reading a stored suite) only the claims' own form is checked. ``prune`` (a ``--quick``
    run's shorter grid) drops the settings, and then the claims, the grid no longer has instead of
    rejecting them; the kept list is what that run stores."""
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        raise FieldError("claims", f"must be a list of claims (each a mapping with source and text), got {_short(raw)}")
    claims, kept = [], []
    for i, entry in enumerate(raw):
        where = f"claims[{i}]"
        try:
            claim = _claim(entry, where, i, verdicts, labels, axes, prune)
        except _OutsideGrid:  # only when pruning: this grid cannot judge the claim
            continue
        if prune and claim.where != _where_as_written(entry):
            entry = {**entry, "where": {axis: list(values) for axis, values in claim.where.items()}}
        claims.append(claim)
        kept.append(entry)
    return tuple(claims), kept


class _OutsideGrid(Exception):
    """While pruning: a claim names a setting the grid lacks, so this grid cannot judge it."""


def _claim(entry: Any, where: str, index: int, verdicts: Mapping, labels, axes, prune: bool) -> Claim:
    if not isinstance(entry, Mapping):
        raise FieldError(where, f"must be a mapping with source, text and what is claimed, got {_short(entry)}")
    options = parse_options(CLAIM_OPTIONS, entry, where, allow=tuple(k for k in CLAIM_KEYS if k not in CLAIM_OPTIONS))
    given = [name for name in EXPECTATIONS if options[name] is not None]
    if len(given) != 1:
        raise FieldError(where, f"give exactly one of {', '.join(EXPECTATIONS)} (the claimed direction and size), "
                                f"got {', '.join(given) or 'none'}")
    for name in ("source", "text"):
        if not options[name].strip():
            raise FieldError(f"{where}.{name}", "must not be empty")
    field = options["field"] or verdicts.get("accuracy_field", "test_accuracy")
    if options["versus_field"]:
        if "reference" in entry:
            raise FieldError(f"{where}.reference", "a claim compares a reference or a versus_field, not both")
        if options["versus_field"] == field:
            raise FieldError(f"{where}.versus_field", f"must differ from the compared field ({field})")
    else:
        for name in ("candidate", "reference"):
            if name not in entry:
                raise FieldError(f"{where}.{name}", "is required (or compare two fields with versus_field)")
    grid_where = _where(entry.get("where"), f"{where}.where", axes, prune)
    trend = _trend(entry.get("trend"), f"{where}.trend", axes, grid_where, prune)
    candidate = _label(entry.get("candidate"), f"{where}.candidate", verdicts, labels, axes, prune) \
        if "candidate" in entry else ""
    reference = _label(entry.get("reference"), f"{where}.reference", verdicts, labels, axes, prune) \
        if "reference" in entry else ""
    if candidate and candidate == reference:
        raise FieldError(f"{where}.reference", f"is the candidate too ({candidate})")
    return Claim(source=options["source"].strip(), text=" ".join(options["text"].split()), expect=given[0],
                 size=options[given[0]], candidate=candidate, reference=reference, field=options["field"],
                 versus_field=options["versus_field"], where=grid_where, trend=trend, index=index)


def _where(raw: Any, where: str, axes, prune: bool) -> dict:
    """Axis -> the values a claim covers; with ``axes`` each must be in the grid (pruning drops the
    others, and the claim when an axis has none left)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise FieldError(where, f"must be a mapping of grid axis: value or [values], got {_short(raw)}")
    found = {}
    for axis, values in raw.items():
        values = values if isinstance(values, list) else [values]
        if not values or not all(isinstance(v, SCALARS) for v in values):
            raise FieldError(f"{where}.{axis}", f"must be a value or a non-empty list of values, got {_short(raw[axis])}")
        inside = []
        for value in values:
            if _in_grid(str(axis), value, f"{where}.{axis}", axes):
                inside.append(value)
            elif not prune:
                raise _outside(str(axis), value, f"{where}.{axis}", axes)
        if not inside:
            raise _OutsideGrid()
        found[str(axis)] = tuple(inside)
    return found


def _trend(raw: Any, where: str, axes, covered: Mapping, prune: bool) -> tuple[dict, dict] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"at", "versus"}:
        raise FieldError(where, f"must be a mapping with 'at' and 'versus' (each axis: value), got {_short(raw)}")
    settings = []
    for name in ("at", "versus"):
        setting = raw[name]
        if not isinstance(setting, Mapping) or not setting:
            raise FieldError(f"{where}.{name}", f"must be a non-empty mapping of grid axis: value, got {_short(setting)}")
        for axis, value in setting.items():
            if not isinstance(value, SCALARS):
                raise FieldError(f"{where}.{name}.{axis}", f"must be one value, got {_short(value)}")
            if axis in covered:
                raise FieldError(f"{where}.{name}.{axis}", f"is also in where; a trend axis is set in the trend only")
            if not _in_grid(str(axis), value, f"{where}.{name}.{axis}", axes):
                _refuse(prune, _outside(str(axis), value, f"{where}.{name}.{axis}", axes))
        settings.append({str(k): v for k, v in setting.items()})
    at, versus = settings
    if set(at) != set(versus):
        raise FieldError(f"{where}.versus", f"must name the same axes as at ({', '.join(at)})")
    if all(_text(at[k]) == _text(versus[k]) for k in at):
        raise FieldError(f"{where}.versus", "is the same setting as at")
    return at, versus


def _label(raw: Any, where: str, verdicts: Mapping, labels, axes, prune: bool) -> str:
    """A candidate as the verdicts label it: a normalizer label, optionally with the axis values that
    tell its variants apart (``batch (momentum=0.99)``), or a value of the competing axis
    (``verdicts.candidates``), stored as ``axis=value``."""
    if not isinstance(raw, SCALARS) or isinstance(raw, bool) or str(raw).strip() == "":
        raise FieldError(where, f"must be a candidate label, got {_short(raw)}")
    text = str(raw).strip()
    competing = verdicts.get("candidates", "normalizer")
    if competing != "normalizer":
        value = text[len(competing) + 1:] if text.startswith(f"{competing}=") else raw
        if not _in_grid(competing, value, where, axes, parse=True):
            _refuse(prune, _outside(competing, value, where, axes, what=f"a value of {competing} (the "
                                                                        "competing axis)"))
        return f"{competing}={_text(_number(value))}"
    name, _, rest = text.partition(" (")
    if labels is not None and name not in labels:
        raise FieldError(where, f"{name!r} is not a normalizer of this suite ({', '.join(labels)})")
    if rest:
        if not rest.endswith(")"):
            raise FieldError(where, f"write a variant as 'label (axis=value, ...)', got {text!r}")
        for part in rest[:-1].split(","):
            axis, equals, value = (s.strip() for s in part.partition("="))
            if not equals:
                raise FieldError(where, f"write a variant as 'label (axis=value, ...)', got {text!r}")
            if not _in_grid(axis, value, where, axes, parse=True):
                _refuse(prune, _outside(axis, value, where, axes))
    return text


def _refuse(prune: bool, error: FieldError) -> None:
    raise _OutsideGrid() if prune else error


def _in_grid(axis: str, value, where: str, axes, parse: bool = False) -> bool:
    if axes is None:
        return True
    if axis not in axes:
        raise FieldError(where, f"{axis!r} is not a grid axis of this suite ({', '.join(axes) or 'none'})")
    wanted = _text(_number(value) if parse else value)
    return any(_text(v) == wanted for v in axes[axis])


def _outside(axis: str, value, where: str, axes, what: str = "") -> FieldError:
    values = ", ".join(_text(v) for v in axes[axis])
    return FieldError(where, f"{_short(value)} is not in the grid ({values})" if not what
                      else f"{_short(value)} is not {what}: {values}")


def _number(value):
    """A value written inside a label (``momentum=0.99``) is text; compare it as the number it spells."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def _where_as_written(entry: Mapping) -> dict:
    raw = entry.get("where") or {}
    return {axis: tuple(v if isinstance(v, list) else [v]) for axis, v in raw.items()} if isinstance(raw, Mapping) else {}


def _short(value: Any) -> str:
    return _REPR.repr(value)


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 60, 60, 6, 4, 2
