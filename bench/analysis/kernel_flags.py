"""Which kernel checks a record fails: a pure judgement over its numbers (no TensorFlow)."""

from __future__ import annotations

from bench.normalizers import NORMALIZERS

# Relative differences a kernel check tolerates per dtype policy (XLA: ten times, it may reorder sums).
KERNEL_TOLERANCE = {"float32": 1e-5, "mixed_float16": 1e-2, "mixed_bfloat16": 2e-2}


def kernel_check_failures(record: dict) -> list[str]:
    """The kernel checks (bench/measure/kernel_checks.py) a record fails: batch dependence where none is
    allowed, XLA disagreement beyond the dtype's tolerance."""
    tolerance = KERNEL_TOLERANCE.get(record.get("precision") or "float32", 1e-5)
    found = []
    kind = NORMALIZERS.get(record.get("normalizer_kind") or record.get("kind") or "")
    allowed_training = kind is not None and kind.batch_statistics
    for mode in ("training", "inference"):
        value = record.get(f"batch_dependence_{mode}")
        if value is not None and value > tolerance and not (mode == "training" and allowed_training):
            found.append(f"batch_dependence_{mode} {value:.2g} (an example's output depends on its batch-mates)")
    xla = record.get("xla_max_rel_diff")
    if xla is not None and not xla <= tolerance * 10:  # NaN and inf fail too; XLA may reorder sums
        found.append(f"xla_max_rel_diff {xla:.2g} (XLA and plain kernels disagree)")
    return found
