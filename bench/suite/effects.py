"""Settings that are valid but cannot take effect in a case, found before anything runs.

A suite can ask for something its own training length makes impossible (BatchNorm statistics frozen
after step 300 of a 252-step run is plain BatchNorm). Such a case still runs; ``normbench check``
and the case's record carry a warning, so a reader does not attribute a result to a setting that
never acted. Each check is one function in ``CHECKS``.
"""

from __future__ import annotations

from typing import Callable

from bench.normalizers import NORMALIZERS


def training_steps(case) -> int:
    """Steps of the main training loop (the trainer drops each epoch's partial batch)."""
    from bench.data import train_size

    per_epoch = train_size(case.dataset, case.dataset_options) // case.settings["batch_size"]
    return per_epoch * case.settings["epochs"]


def _freeze_beyond_training(case) -> str | None:
    freeze = case.normalizer_options.get("freeze_stats_after") or 0
    if not freeze:
        return None
    steps = training_steps(case)
    if freeze >= steps:
        return (f"freeze_stats_after={freeze} is not before the last of the {steps} training steps: "
                f"the statistics never freeze, so this is plain BatchNorm")
    return None


def _precise_bn_without_statistics(case) -> str | None:
    samples = case.settings.get("precise_bn_samples") or 0
    if not samples:
        return None
    if not NORMALIZERS[case.normalizer_kind].moving_statistics or case.normalizer_options.get("freeze_stats_after"):
        return f"precise_bn_samples={samples}: {case.normalizer} keeps no moving statistics to recompute"
    if samples < case.settings["batch_size"]:
        return (f"precise_bn_samples={samples} is less than one batch of {case.settings['batch_size']}: "
                f"nothing is recomputed")
    return None


CHECKS: list[Callable] = [_freeze_beyond_training, _precise_bn_without_statistics]


def case_warnings(case) -> list[str]:
    """What in this case cannot take effect (empty for layer suites, which do not train)."""
    if case.workload != "model":
        return []
    return [w for w in (check(case) for check in CHECKS) if w]
