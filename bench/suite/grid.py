"""Expand a suite's grid into cases, one trained-and-measured model each.

An axis applies to a case when the case's normalizer, the model or the training loop uses it.
Axes that do not apply (momentum for LayerNorm) do not multiply that normalizer's cases; they are
listed in ``Case.not_applicable`` so records and the report can say so.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass
from typing import Any

from bench.suite import catalog
from bench.suite.effects import case_warnings
from bench.suite.spec import NormalizerSpec, Suite


@dataclass(frozen=True)
class Case:
    """Everything needed to run one case, fully resolved, as plain data (JSON- and pickle-friendly)."""

    case_id: str
    suite: str
    normalizer: str
    normalizer_kind: str
    normalizer_options: dict[str, Any]
    dataset: str
    dataset_options: dict[str, Any]
    model: str
    model_options: dict[str, Any]
    settings: dict[str, Any]  # the workload's settings section: ``training`` (model) or ``layer``
    timing: dict[str, Any]
    axes: dict[str, Any]
    not_applicable: tuple[str, ...]
    seed: int
    device: str
    workload: str = "model"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["not_applicable"] = list(self.not_applicable)
        return data

    @property
    def config_hash(self) -> str:
        """Identifies the experiment, not its name: every resolved option, seed and device (the
        case_id holds only the grid values, so a changed ``epochs`` keeps the same case_id)."""
        data = {LEGACY_NAMES.get(k, k): v for k, v in self.to_dict().items() if k != "case_id"}
        data["timing"] = {k: v for k, v in data["timing"].items() if k != UNTIMED}  # how it runs, not what
        data["training"] = _without_defaults(data["training"], catalog.ADDED_SETTINGS)
        data["normalizer_options"] = _without_defaults(data["normalizer_options"], catalog.ADDED_NORMALIZER_OPTIONS)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def timed(self) -> bool:
        """Whether the case's steps are timed (a budgeted run's added seeds for accuracy are not)."""
        return not self.timing.get(UNTIMED, False)

    @property
    def warnings(self) -> list[str]:
        """Settings of this case that cannot take effect (:mod:`bench.suite.effects`)."""
        return case_warnings(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Case":
        """A case from :meth:`to_dict`'s output, also one written before the fields were renamed
        (run.json's ``extra_cases`` of an older run)."""
        renamed = {NEW_NAMES.get(k, k): v for k, v in data.items()}
        return cls(**{**renamed, "not_applicable": tuple(renamed["not_applicable"])})


def _without_defaults(options: dict, added: dict) -> dict:
    """``options`` without the settings added later that still hold the value every earlier run used."""
    return {k: v for k, v in options.items() if not (k in added and added[k] == v)}


# The ``timing`` key a budgeted run sets on an added seed that no speed comparison asks for
# (bench.execute.settle.untimed): the case is trained and evaluated, its steps are not timed.
UNTIMED = "untimed"

# Fields renamed after runs were stored: the config hash keeps the old names, so a case's hash (and
# with it ``normbench compare``'s pairing across runs) is the same before and after the rename.
LEGACY_NAMES = {"normalizer_kind": "kind", "settings": "training", "workload": "suite_kind"}
NEW_NAMES = {old: new for new, old in LEGACY_NAMES.items()}


def expand(suite: Suite, quick: bool = False) -> list[Case]:
    """All cases of ``suite`` (its quick variant when ``quick``), devices outermost so a CPU-only
    machine finishes its real work before listing the skipped GPU cases."""
    if quick and suite.quick is not None:
        suite = suite.quick
    cases = []
    for device in suite.devices:
        for spec in suite.normalizers:
            applicable = [a for a in suite.grid if _applies(a, spec, suite)]
            skipped = tuple(a for a in suite.grid if a not in applicable)
            for values in itertools.product(*(suite.grid[a] for a in applicable)):
                axes = dict(zip(applicable, values))
                for seed in suite.seeds:
                    cases.append(_case(suite, spec, axes, skipped, seed, device))
    return cases


def _applies(axis: str, spec: NormalizerSpec, suite: Suite) -> bool:
    if axis in catalog.SETTINGS[suite.workload] or axis in catalog.NORMALIZERS[spec.kind].options:
        return True
    if suite.workload == "model" and (axis == "model" or axis in catalog.MODELS[suite.model.name]
                                  or axis in catalog.DATASETS[suite.dataset.name]):
        return True
    owner = _user_axis_owner(axis, suite)
    return owner == "model" or (owner == "normalizer" and catalog.open_normalizer(spec.kind))


def _user_axis_owner(axis: str, suite: Suite) -> str | None:
    """Who takes a grid axis that no catalog entry owns: the user's model factory ("model") when the
    suite has one, else the normalizers whose kind takes the user's options ("normalizer"); None
    when it is a catalog axis."""
    owned = axis in catalog.SETTINGS[suite.workload] or axis == "model" or any(
        axis in catalog.NORMALIZERS[spec.kind].options for spec in suite.normalizers)
    if suite.workload == "model":
        owned = owned or axis in catalog.MODELS[suite.model.name] or axis in catalog.DATASETS[suite.dataset.name]
    if owned:
        return None
    if suite.workload == "model" and suite.model.name in catalog.OPEN_OPTIONS:
        return "model"
    return "normalizer"


def _case(suite: Suite, spec: NormalizerSpec, axes: dict, not_applicable: tuple, seed: int,
          device: str) -> Case:
    def overridden(base: dict, owner_keys, owner: str = "") -> dict:
        return {**base, **{k: v for k, v in axes.items()
                           if k in owner_keys or (owner and _user_axis_owner(k, suite) == owner)}}

    model = suite.models.get(axes.get("model", suite.model.name), suite.model)
    return Case(
        case_id=case_id(suite.name, spec.label, axes, seed, device),
        suite=suite.name,
        normalizer=spec.label,
        normalizer_kind=spec.kind,
        normalizer_options=overridden(spec.options, catalog.NORMALIZERS[spec.kind].options,
                                      "normalizer" if catalog.open_normalizer(spec.kind) else ""),
        dataset=suite.dataset.name,
        dataset_options=overridden(suite.dataset.options, catalog.DATASETS.get(suite.dataset.name, {})),
        model=model.name,
        model_options=overridden(model.options, catalog.MODELS.get(model.name, {}),
                                 "model" if model.name in catalog.OPEN_OPTIONS else ""),
        settings=overridden(suite.settings, catalog.SETTINGS[suite.workload]),
        timing=dict(suite.timing),
        axes=axes,
        not_applicable=not_applicable,
        seed=seed,
        device=device,
        workload=suite.workload,
    )


def case_id(suite: str, label: str, axes: dict, seed: int, device: str) -> str:
    """A stable, readable identity: what resume matches on and what the report shows."""
    settings = ",".join(f"{k}={format_value(v)}" for k, v in axes.items()) or "default"
    return f"{suite}/{label}/{settings}/seed={seed}/{device}"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, list):
        return "x".join(format_value(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)
