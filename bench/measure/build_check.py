"""``normbench check`` on user code: build what a suite's own model factory, saved model or
normalizer makes, in the driver, before anything runs. Imports Keras: only suites that name user
code get here."""

from __future__ import annotations

import json

from bench.core.errors import SuiteError
from bench.normalizers import NORMALIZERS
from bench.suite import catalog
from bench.suite.user_code import framework_output_hidden


def check_builds(suite, cases) -> None:
    """``normbench check``: build what a suite's own model factory, saved model or normalizer makes,
    once per normalizer, for the dataset's shape (or the layer suite's shape); one that fails stops
    the check with one line. Imports Keras: only suites that name user code get here."""
    users = [c for c in cases if NORMALIZERS[c.normalizer_kind].open_options or c.model in (*catalog.OPEN_OPTIONS, "file")]
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
    from bench.measure.compat import zeros
    from bench.measure.layers import build_normalizer

    if case.workload == "layer":
        build_normalizer(case.normalizer_kind, case.normalizer_options)(
            zeros((2, *catalog.LAYER_SHAPES[case.settings["shape"]])), training=False)
        return
    from bench.data import load_dataset
    from bench.measure.models import build_model

    dataset = load_dataset(case.dataset, case.dataset_options)
    model = build_model(case.model, case.model_options, dataset.input_shape, dataset.classes, case.normalizer_kind,
                        case.normalizer_options)
    model(dataset.x_test[:2], training=False)
