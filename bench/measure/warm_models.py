"""Traced steps kept between cases that differ only in their seed.

On normbench's small models a case spends more time tracing (TensorFlow) or compiling (JAX) its
steps than training: 56% of a digits-MLP case's quality phase at batch 8 was ``tf.function``
tracing, and a JAX case of the backends suite is mostly XLA compilation. A case of the same
configuration with another seed builds the same graph; only its initial weights and data order
differ. So a worker keeps a finished case's model and trainer here, and the next case of that
configuration builds its own model as ever (seeded: its initial weights) and a fresh optimizer, copies
their variables into the kept ones and trains those, traces and all. Training reads only variable
values, so the losses and accuracies are those of a fresh trace, bit for bit
(tests/test_warm_models.py). The record says which cases reused steps (``reused_steps``).

Only normbench's own models and normalizers are reused: the user's code may draw random numbers when
traced, or keep Python state, that a copy of the variables would not reset. A trainer opts in with
``reuses_steps = True`` (TensorFlow and JAX; PyTorch runs eagerly, with nothing to keep).
"""

from __future__ import annotations

import json
from collections import OrderedDict

from bench.suite import Case

KEPT = 8  # trainers a worker keeps at most (the least recently used go first): memory stays flat
USER_MODELS = ("factory", "file")  # the user's own model (bench.measure.models)
USER_NORMALIZERS = ("factory",)  # the user's own layer (bench.normalizers.factory)

_kept: OrderedDict[str, list] = OrderedDict()  # configuration -> idle trainers of it, in this worker


def configuration(case: Case) -> str | None:
    """What must match for two cases to share traced steps: everything but the seed and how the case
    is named or timed; None for a case that is never reused."""
    settings = case.settings
    if (case.workload != "model" or case.model in USER_MODELS or case.normalizer_kind in USER_NORMALIZERS
            or settings.get("replicas", 1) != 1 or settings.get("fine_tune_epochs")
            or case.normalizer_options.get("implementation", "keras") != "keras"):
        return None
    data = {k: v for k, v in case.to_dict().items() if k not in ("case_id", "seed", "timing")}
    return json.dumps(data, sort_keys=True, default=str)


def trainer_for(case: Case, model, optimizer, make_trainer):
    """A trainer holding ``model``'s weights and ``optimizer``'s state (this case's start): a kept one
    of the same configuration when there is one (its variables overwritten), else
    ``make_trainer(model, optimizer)``. Returns ``(trainer, reused)``."""
    key = configuration(case)
    idle = _kept.get(key) if key is not None else None
    while idle:
        trainer = idle.pop()
        if _restart(trainer, model, optimizer):
            return trainer, True
    return make_trainer(model, optimizer), False


def keep(case: Case, trainer) -> None:
    """Give a finished case's trainer back for the next case of its configuration (a failed case's is
    dropped: its traces may be in any state)."""
    key = configuration(case)
    if key is None or not getattr(trainer, "reuses_steps", False):
        return
    _kept.setdefault(key, []).append(trainer)
    _kept.move_to_end(key)
    while sum(len(trainers) for trainers in _kept.values()) > KEPT:
        oldest = next(iter(_kept))
        _kept[oldest].pop(0)
        if not _kept[oldest]:
            del _kept[oldest]


def forget() -> None:
    """Drop every kept trainer (tests; a worker that is about to be replaced need not)."""
    _kept.clear()


def _restart(trainer, model, optimizer) -> bool:
    """Copy a fresh model's and optimizer's variables into the trainer's; False (nothing copied)
    when they do not line up one to one."""
    from bench.measure import compat

    compat.build_optimizer(optimizer, model.trainable_variables)
    kept, fresh = _variables(trainer.model) + _variables(trainer.optimizer), _variables(model) + _variables(optimizer)
    pairs = list(zip(kept, fresh))
    if len(kept) != len(fresh) or any(tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype for a, b in pairs):
        return False
    for into, source in pairs:
        into.assign(source.value if compat.KERAS_3 else source)
    trainer.variables_changed()
    return True


def _variables(owner) -> list:
    """A model's or optimizer's variables (a method, not a property, on some Keras 2 optimizers)."""
    variables = owner.variables
    return list(variables() if callable(variables) else variables)
