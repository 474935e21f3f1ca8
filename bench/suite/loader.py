"""Read suite files and reject anything that cannot run, before anything runs.

Every problem becomes a :class:`~bench.core.errors.SuiteError` whose text names the file, the field path
and the bad value, e.g. ``suites/eps.yaml: grid.epsilon[2]: must be > 0, got -1``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import reprlib
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bench.analysis import headlines
from bench.suite import catalog
from bench.suite.claims import parse_claims
from bench.core.errors import FieldError, SuiteError
from bench.core.params import USER_VALUE, Param, parse_options
from bench.suite.spec import Component, NormalizerSpec, Suite

TOP_LEVEL = {
    "model": ("name", "description", "workload", "dataset", "model", "training", "normalizers", "grid", "seeds",
              "devices", "timing", "verdicts", "claims", "quick"),
    "layer": ("name", "description", "workload", "layer", "normalizers", "grid", "seeds", "devices", "timing",
              "verdicts", "quick"),
}
QUICK_SECTIONS = ("dataset", "model", "training", "layer", "normalizers", "grid", "seeds", "timing")
NO_COMPONENT = Component("none", {})  # a layer suite's dataset and model
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_SUITE_BYTES = 1_000_000
MAX_NODES = 100_000


def load_suites(paths: Iterable[str | Path]) -> list[Suite]:
    """Load several suites; their names must be unique because case ids start with them."""
    suites = [load_suite(p) for p in paths]
    seen: dict[str, str] = {}
    for suite in suites:
        if suite.name in seen:
            raise SuiteError(suite.source, "name", f"{suite.name!r} is also the name of {seen[suite.name]}")
        seen[suite.name] = suite.source
    return suites


def load_suite(path: str | Path) -> Suite:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SuiteError(source, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SUITE_BYTES:
        raise SuiteError(source, "", f"too large ({len(raw)} bytes; a suite is at most {MAX_SUITE_BYTES})")
    try:
        document = _safe_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SuiteError(source, "", "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise SuiteError(source, "", f"not valid YAML: {_yaml_problem(exc)}") from None
    except _TooLarge as exc:
        raise SuiteError(source, "", str(exc)) from None
    return suite_from_document(document, source, hashlib.sha256(raw).hexdigest())


class _TooLarge(Exception):
    pass


def _safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` (no Python object tags), but refuse documents whose aliases expand past
    MAX_NODES: a "billion laughs" file is small on disk and huge once copied into run.json."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_NODES:
            raise _TooLarge(f"expands to more than {MAX_NODES} YAML nodes through aliases "
                            f"(at least {size}); a suite is small")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Node count with every alias expanded, computed once per distinct node (so it is fast)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle (recursive alias) counts once; the constructor rejects nothing here
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = min(size, MAX_NODES + 1)
    return memo[key]


def suite_from_document(document: Any, source: str, sha256: str = "") -> Suite:
    """Validate an already-parsed suite document (also used to resume from a run's stored copy)."""
    try:
        return _parse(document, source, sha256, allow_quick=True)
    except FieldError as exc:
        raise SuiteError(source, exc.field, exc.message) from None


class DeprecatedKey(FutureWarning):
    """A suite key that was renamed: it still loads, and the CLI prints this as one line."""


RENAMED_KEYS = {"kind": "workload"}  # suite files before the rename still load, with a note


def _renamed_keys(document: Mapping, source: str, note: bool) -> Mapping:
    """``document`` with renamed top-level keys under their new names (a one-line note per key)."""
    old = [key for key in RENAMED_KEYS if key in document]
    if not old:
        return document
    document = dict(document)
    for key in old:
        new = RENAMED_KEYS[key]
        if new in document:
            raise FieldError(key, f"is the old name of {new!r}; give only {new!r}")
        if note:
            warnings.warn(DeprecatedKey(f"{source}: {key!r} is now called {new!r} "
                                        f"(write '{new}: {_short(document[key])}'); it still loads"), stacklevel=2)
        document[new] = document.pop(key)
    return document


def _parse(document: Any, source: str, sha256: str, allow_quick: bool) -> Suite:
    if not isinstance(document, Mapping):
        raise FieldError("", f"must be a mapping of suite fields, got {_short(document)}")
    document = _renamed_keys(document, source, allow_quick)
    kind = Param(str, "model", choices=catalog.WORKLOADS).parse(document.get("workload", "model"), "workload")
    allowed = TOP_LEVEL[kind] if allow_quick else TOP_LEVEL[kind][:-1]
    for key in document:
        if key not in allowed:
            raise FieldError(str(key), f"unknown key (known: {', '.join(allowed)})")
    name = _required_text(document, "name")
    if not NAME_PATTERN.match(name):
        raise FieldError("name", f"use letters, digits, '_', '.' and '-' only, got {name!r}")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise FieldError("description", f"must be a string, got {_short(description)}")

    normalizers = _normalizers(document.get("normalizers"), source)
    section = catalog.SETTINGS_SECTION[kind]
    training_raw = document.get(section) or {}
    training = parse_options(catalog.SETTINGS[kind], training_raw, section)
    if kind == "layer":
        dataset = model = NO_COMPONENT
        grid = _grid(document.get("grid") or {}, normalizers, kind, model, dataset, training_raw, document)
        models = {}
        shapes = grid.get("shape", [training["shape"]])
        _check_groups_fit(normalizers, grid, [[catalog.LAYER_SHAPES[s][-1] for s in shapes]])
    else:
        dataset = _user_files(_component(document.get("dataset", "digits"), "dataset", catalog.DATASETS), source)
        model = _saved_model_file(_component(_model_section(document), "model", catalog.MODELS, source), source)
        grid = _grid(document.get("grid") or {}, normalizers, kind, model, dataset, training_raw, document)
        models = _model_variants(document.get("model", "cnn"), grid, model)
        _check_input_rank(dataset, models)
        if "path" in grid:
            raise FieldError("grid.path", "a dataset file cannot be a grid axis: write one suite per file")
        _check_groups_fit(normalizers, grid, grid.get("widths", [catalog.model_widths(m.name, m.options)
                                                                 for m in models.values()]))
        _check_heads_fit(models)
        _check_batches_fit(training, grid, dataset)
        _check_batches_split(training, grid)
    seeds = tuple(Param(list, [0], item=int).parse(document.get("seeds", [0]), "seeds"))
    if len(set(seeds)) != len(seeds):
        raise FieldError("seeds", f"must not repeat a seed, got {list(seeds)}")
    devices = tuple(Param(list, ["cpu"], item=str, choices=catalog.DEVICES)
                    .parse(document.get("devices", list(catalog.DEVICES)), "devices"))
    timing = parse_options(catalog.TIMING, document.get("timing"), "timing")
    verdicts = parse_options(headlines.VERDICT_OPTIONS, document.get("verdicts"), "verdicts")
    if verdicts["candidates"] not in ("normalizer", *grid):
        raise FieldError("verdicts.candidates", f"must be normalizer or a grid axis ({', '.join(grid) or 'none'}), "
                                                f"got {_short(verdicts['candidates'])}")
    choices = ([spec.label for spec in normalizers] if verdicts["candidates"] == "normalizer"
               else [str(v) for v in grid[verdicts["candidates"]]])
    if verdicts["baseline"] and verdicts["baseline"] not in choices:
        raise FieldError("verdicts.baseline", f"must be one of the candidates ({', '.join(choices)}), "
                                              f"got {_short(verdicts['baseline'])}")
    if verdicts["versus_field"] == verdicts["accuracy_field"]:
        raise FieldError("verdicts.versus_field", f"must differ from accuracy_field ({verdicts['accuracy_field']})")
    missing = headlines.missing_requirement(verdicts)
    if missing:
        raise FieldError("verdicts.headline", missing)
    # a --quick run's shorter grid judges the claims it can; the document it stores keeps only those
    claims, kept = parse_claims(document.get("claims"), verdicts, [spec.label for spec in normalizers],
                                {**grid, "device": list(devices)}, prune=not allow_quick)
    if "claims" in document:
        document = {**document, "claims": kept}

    quick = None
    if allow_quick:
        quick_document = _quick_document(document)
        try:
            quick = _parse(quick_document, source, sha256, allow_quick=False)
        except FieldError as exc:
            raise FieldError(f"quick: {exc.field}" if exc.field else "quick", exc.message) from None
    return Suite(name=name, description=description.strip(), source=source, sha256=sha256,
                 document=dict(document), dataset=dataset, model=model, models=models, settings=training,
                 normalizers=normalizers, grid=grid, seeds=seeds, devices=devices, timing=timing,
                 verdicts=verdicts, quick=quick, workload=kind, claims=claims)


def _quick_document(document: Mapping) -> dict:
    """The suite as ``--quick`` runs it: one seed, short timing, then the suite's own ``quick`` overrides.

    Each override section is merged key by key over the full suite's section, so ``quick: {grid:
    {batch_size: [8, 64]}}`` shortens one axis and keeps the others.
    """
    overrides = document.get("quick") or {}
    if not isinstance(overrides, Mapping):
        raise FieldError("quick", f"must be a mapping, got {_short(overrides)}")
    for key in overrides:
        if key not in QUICK_SECTIONS:
            raise FieldError(f"quick.{key}", f"cannot be overridden (can: {', '.join(QUICK_SECTIONS)})")
    merged = {k: v for k, v in document.items() if k != "quick"}
    seeds = document.get("seeds", [0])
    merged["seeds"] = seeds[:1] if isinstance(seeds, list) else seeds
    merged["timing"] = {**(document.get("timing") or {}), **catalog.QUICK_TIMING}
    for section, values in overrides.items():
        base = merged.get(section)
        if isinstance(base, Mapping) and isinstance(values, Mapping):
            merged[section] = {**base, **values}
        else:
            merged[section] = values
    return merged


def _component(raw: Any, where: str, known: Mapping[str, Mapping[str, Param]], source: str = "") -> Component:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise FieldError(where, f"must be a name or a mapping with 'name', got {_short(raw)}")
    name = raw.get("name", _implied_model(raw) if where == "model" else None)
    if not isinstance(name, str) or name not in known:
        raise FieldError(f"{where}.name", f"unknown {where} {_short(name)} (known: {', '.join(known)})")
    options = {k: v for k, v in raw.items() if k != "name"}
    if name in catalog.OPEN_OPTIONS:
        return Component(name, _user_options(known[name], options, where, source, "model"))
    return Component(name, parse_options(known[name], options, where))


def _implied_model(raw: Mapping) -> str | None:
    """``model: {factory: ...}`` and ``model: {file: ...}`` need no name."""
    return next((key for key in ("factory", "file") if key in raw), None)


def _user_options(specs: Mapping[str, Param], options: Mapping, where: str, source: str, role: str) -> dict:
    """A user factory's options: ``factory`` imported and its signature checked now (one line naming
    the field on any problem), the rest passed through; ``factory_path`` is where it was found."""
    from bench.suite import user_code

    if "factory_path" in options:
        raise FieldError(f"{where}.factory_path", "is set by normbench (the suite file's folder)")
    extra = tuple(k for k in options if k not in specs)
    parsed = parse_options(specs, options, where, allow=extra)
    folder = user_code.folder_of(source)
    try:
        user_code.check_plain({k: parsed[k] for k in extra}, where)
        with user_code.framework_output_hidden():
            factory = user_code.load_object(parsed["factory"], folder)
        check = user_code.check_model_factory if role == "model" else user_code.check_layer_factory
        check(factory, {k: parsed[k] for k in extra})
    except ValueError as exc:
        raise FieldError(f"{where}.factory", str(exc)) from None
    return {**parsed, "factory_path": folder}


def _user_files(dataset: Component, source: str) -> Component:
    """A dataset's files (an ``npz`` path, Keras's cache) resolved against the suite file's folder
    and checked now, so a bad or missing file stops the suite before anything runs (one line naming
    the field and the problem)."""
    from bench.data import check_options, checked_field

    try:
        options = check_options(dataset.name, dataset.options, _suite_folder(source))
    except ValueError as exc:
        raise FieldError(f"dataset.{checked_field(dataset.name)}", str(exc)) from None
    return Component(dataset.name, options)


def _saved_model_file(model: Component, source: str) -> Component:
    """A saved model's path, resolved against the suite's folder; the file must be a Keras archive
    (its layers are checked by ``normbench check`` and in the worker, which load Keras)."""
    if model.name != "file":
        return model
    import zipfile

    path = _relative_to_suite(model.options["file"], source)
    if not path.is_file():
        raise FieldError("model.file", f"{model.options['file']}: no such file")
    if not zipfile.is_zipfile(path):
        raise FieldError("model.file", f"{model.options['file']}: not a Keras .keras archive (save it with "
                                       "model.save('name.keras'))")
    return Component(model.name, {**model.options, "file": str(path.resolve())})


def _suite_folder(source: str) -> Path:
    """Where a suite's relative paths start: its file's folder (the working directory for a suite
    that came from no file)."""
    return Path(source).parent if source and not source.startswith("<") else Path.cwd()


def _relative_to_suite(path: str, source: str) -> Path:
    return _suite_folder(source) / Path(path).expanduser()  # an absolute path stays as it is


def _check_heads_fit(models: Mapping[str, Component]) -> None:
    model = models.get("transformer")
    if model is not None and model.options["width"] % model.options["heads"]:
        raise FieldError("model.heads", f"{model.options['heads']} heads do not divide width {model.options['width']}")


def _check_input_rank(dataset: Component, models: Mapping[str, Component]) -> None:
    """The CNN convolves images (N, H, W, C) or sequences (N, T, C); flat feature vectors suit the MLP."""
    if "cnn" not in models:
        return
    from bench.data import example_shape

    shape = example_shape(dataset.name, dataset.options)
    if len(shape) not in (2, 3):
        raise FieldError("model", f"cnn needs images (H, W, C) or sequences (T, C); dataset {dataset.name!r} has "
                                  f"examples of shape {shape}: use model mlp")


def _normalizers(raw: Any, source: str = "") -> tuple[NormalizerSpec, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise FieldError("normalizers", "must be a non-empty mapping of label: {kind, options}, "
                                        f"got {_short(raw)}")
    specs = []
    for label, options in raw.items():
        where = f"normalizers.{label}"
        if not isinstance(label, str) or not NAME_PATTERN.match(label):
            raise FieldError(where, "a label uses letters, digits, '_', '.' and '-' only")
        options = dict(options or {}) if isinstance(options, Mapping) or options is None else options
        if not isinstance(options, dict):
            raise FieldError(where, f"must be a mapping of options, got {_short(options)}")
        kind = options.pop("kind", "factory" if "factory" in options else label)
        if not isinstance(kind, str) or kind not in catalog.NORMALIZERS:
            raise FieldError(f"{where}.kind", f"unknown normalizer {_short(kind)} "
                                              f"(known: {', '.join(catalog.NORMALIZERS)})")
        if catalog.open_normalizer(kind):
            parsed = _user_options(catalog.NORMALIZERS[kind].options, options, where, source, "normalizer")
        else:
            parsed = parse_options(catalog.NORMALIZERS[kind].options, options, where)
        specs.append(NormalizerSpec(label, kind, parsed))
    return tuple(specs)


def _grid(raw: Any, normalizers: tuple[NormalizerSpec, ...], kind: str, model: Component,
          dataset: Component, training_raw: Mapping, document: Mapping) -> dict[str, list]:
    """Validate each axis against every owner that uses it (training, model, dataset or normalizer
    options, or ``model`` itself)."""
    if not isinstance(raw, Mapping):
        raise FieldError("grid", f"must be a mapping of axis: [values], got {_short(raw)}")
    grid = {}
    for axis, values in raw.items():
        where = f"grid.{axis}"
        owners = _axis_owners(str(axis), normalizers, kind, model, dataset)
        if not owners:
            raise FieldError(where, f"not a {catalog.SETTINGS_SECTION[kind]} setting, model or dataset "
                                    "option or option of any normalizer in this suite (known axes: "
                                    f"{', '.join(_known_axes(normalizers, kind, model, dataset))})")
        if not isinstance(values, list) or not values:
            raise FieldError(where, f"must be a non-empty list of values, got {_short(values)}")
        if axis in training_raw:
            raise FieldError(f"{catalog.SETTINGS_SECTION[kind]}.{axis}",
                             f"is also grid axis {where}; set it in one place")
        for section in ("model", "dataset"):
            if isinstance(document.get(section), Mapping) and axis in document[section]:
                raise FieldError(f"{section}.{axis}", f"is also grid axis {where}; set it in one place")
        for label, options in document["normalizers"].items():
            if isinstance(options, Mapping) and axis in options:
                raise FieldError(f"normalizers.{label}.{axis}", f"is also grid axis {where}; "
                                                               "set it in one place")
        parsed = []
        for i, value in enumerate(values):
            item_where = f"{where}[{i}]"
            for param in owners:
                value = param.parse(value, item_where)
            parsed.append(value)
        if len({repr(v) for v in parsed}) != len(parsed):
            raise FieldError(where, f"repeats a value: {parsed}")
        grid[str(axis)] = parsed
    return grid


def _axis_owners(axis: str, normalizers, kind: str, model: Component, dataset: Component) -> list[Param]:
    settings = catalog.SETTINGS[kind]
    if axis == "model" and kind == "model":
        return [catalog.MODEL_AXIS]
    owners = []
    if axis in settings:
        owners.append(settings[axis])
    if axis in catalog.MODELS.get(model.name, {}):
        owners.append(catalog.MODELS[model.name][axis])
    if axis in catalog.DATASETS.get(dataset.name, {}):
        owners.append(catalog.DATASETS[dataset.name][axis])
    for spec in normalizers:
        option = catalog.NORMALIZERS[spec.kind].options.get(axis)
        if option is not None and option not in owners:
            owners.append(option)
    if not owners and axis not in ("factory", "factory_path") and (
            model.name in catalog.OPEN_OPTIONS or any(catalog.open_normalizer(spec.kind) for spec in normalizers)):
        owners.append(USER_VALUE)  # an option of the user's own model or normalizer
    return owners


def _known_axes(normalizers, kind: str, model: Component, dataset: Component) -> list[str]:
    if kind == "layer":
        names = list(catalog.LAYER_BENCH)
    else:
        names = ["model", *catalog.TRAINING, *catalog.MODELS[model.name], *catalog.DATASETS[dataset.name]]
    for spec in normalizers:
        names += [o for o in catalog.NORMALIZERS[spec.kind].options if o not in names]
    return names


def _model_section(document: Mapping) -> Any:
    """The model section, its name defaulting to cnn; with a ``model`` grid axis the section holds
    only options and must not name a family too."""
    raw = document.get("model", "cnn")
    grid = document.get("grid")
    if isinstance(raw, Mapping) and isinstance(grid, Mapping) and "model" in grid:
        if "name" in raw:
            raise FieldError("model.name", "is also grid axis grid.model; set it in one place")
        return {**raw, "name": "cnn"}
    return raw


def _model_variants(raw: Any, grid: Mapping[str, list], model: Component) -> dict[str, Component]:
    """One validated model per family on the ``model`` axis; the model section's options (not its
    name) apply to each, and each family keeps its own defaults for the rest."""
    if "model" not in grid:
        return {model.name: model}
    options = {k: v for k, v in raw.items() if k != "name"} if isinstance(raw, Mapping) else {}
    return {name: _component({**options, "name": name}, "model", catalog.MODELS) for name in grid["model"]}


def _check_groups_fit(normalizers, grid: Mapping[str, list], widths_options: list[list[int]]) -> None:
    """GroupNorm splits channels into equal groups, so every group count must divide every width."""
    for spec in normalizers:
        if "groups" not in catalog.NORMALIZERS[spec.kind].options:
            continue
        if "groups" in grid:
            candidates = [(f"grid.groups[{i}]", g) for i, g in enumerate(grid["groups"])]
        else:
            candidates = [(f"normalizers.{spec.label}.groups", spec.options["groups"])]
        for where, groups in candidates:
            for widths in widths_options:
                bad = [w for w in widths if w % groups]
                if bad:
                    raise FieldError(where, f"{groups} groups do not divide the model's width {bad[0]} "
                                            f"(widths {widths})")


def _check_batches_split(training: Mapping, grid: Mapping[str, list]) -> None:
    """With replicas, each replica trains on an equal slice of the global batch."""
    batches = grid.get("batch_size", [training["batch_size"]])
    for replicas in grid.get("replicas", [training["replicas"]]):
        for batch in batches:
            if batch % replicas:
                where = "grid.batch_size" if "batch_size" in grid else "training.batch_size"
                raise FieldError(where, f"{batch} does not split evenly over {replicas} replicas (batch_size "
                                        f"is the global batch: a multiple of every replicas value)")


def _check_batches_fit(training: Mapping, grid: Mapping[str, list], dataset: Component) -> None:
    """Training drops the last partial batch, so a batch larger than the training set runs no step."""
    from bench.data import train_size

    data_axes = [a for a in grid if a in dataset.options]
    available = min(train_size(dataset.name, {**dataset.options, **dict(zip(data_axes, values))})
                    for values in itertools.product(*(grid[a] for a in data_axes)))
    if "batch_size" in grid:
        candidates = [(f"grid.batch_size[{i}]", b) for i, b in enumerate(grid["batch_size"])]
    else:
        candidates = [("training.batch_size", training["batch_size"])]
    for where, batch in candidates:
        if batch > available:
            raise FieldError(where, f"{batch} is more than the {available} training examples of "
                                    f"dataset {dataset.name!r}")


def _required_text(document: Mapping, key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise FieldError(key, f"is required and must be a non-empty string, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    return _REPR.repr(value)


_REPR = reprlib.Repr()  # bounded repr: error messages stay one short line whatever the value
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 60, 60, 6, 4, 2


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else problem
