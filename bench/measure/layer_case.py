"""Time one normalization layer alone (a ``workload: layer`` suite case) and place it on the roofline.

The layer gets a random activation tensor of the case's shape and dtype; the timed function (the
backend's ``layer_function``: a ``tf.function``, a JAX function, or PyTorch eager code; compiled
with XLA or ``torch.compile`` when ``jit_compile``) runs the forward pass, or the forward and the
backward pass to the input and the layer's weights, and returns when the device has finished.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from bench.suite import catalog
from bench.core import metrics
from bench.measure import roofline
from bench.core.errors import ImplementationUnavailable
from bench.measure import backends, compat, stream
from bench.measure.kernel_checks import record_checks
from bench.measure.layers import build_by_calling, build_normalizer
from bench.measure.throughput import time_calls


def measure_layer_case(case, record: dict, benchmarks: list) -> dict:
    """Fill ``record`` for a layer case. Two ceilings are measured right after the layer, for every
    case, because on a shared machine bandwidth drifts (38-70 GB/s within minutes on the development
    VM) and only a measurement next to the timing makes a ratio meaningful: the machine's own
    (STREAM-style, ``bench.measure.stream``: cache-sized when the call's working set fits in the
    last-level cache) and the backend's elementwise kernel (the framework ceiling, float32: bytes are
    bytes, and a 16-bit multiply is not a pure copy on CPUs without half-precision arithmetic)."""
    started = time.perf_counter()
    backend = backends.active()
    reason = backends.unsupported(case, backend.NAME)
    if reason:
        raise ImplementationUnavailable(reason)
    record.update(backend_version=backend.VERSION, step_compiler=backend.LAYER_COMPILERS[case.settings["jit_compile"]])
    settings = case.settings
    shape = catalog.LAYER_SHAPES[settings["shape"]]
    batch, dtype, pass_ = settings["batch_size"], settings["dtype"], settings["pass"]
    record_checks(record, case.normalizer_kind, case.normalizer_options, dtype)
    keras.utils.set_random_seed(case.seed)
    compat.set_dtype_policy(dtype)
    try:
        with backend.device(case.device):
            layer = build_normalizer(case.normalizer_kind, case.normalizer_options)
            x = backend.random_normal((batch, *shape), layer.compute_dtype)
            build_by_calling(layer, (batch, *shape))
            fn = backend.layer_function(layer, x, pass_, settings["mode"] == "training", settings["jit_compile"])
            timing = time_calls(
                fn, name=f"layer[{case.case_id}]", fullname=f"normbench::{case.suite}::layer[{case.case_id}]",
                group=f"{case.suite}:{settings['shape']}:{pass_}:{case.device}",
                extra_info={"case_id": case.case_id, "phase": "layer"},
                min_rounds=case.timing["min_rounds"], max_time=case.timing["max_time"],
                warmup_rounds=case.timing["warmup_rounds"], round_time=case.timing["round_time"])
            framework = backend.framework_ceiling("float32", case.timing, benchmarks)
    finally:
        compat.set_dtype_policy("float32")
    bytes_moved = roofline.minimum_bytes(batch, shape, dtype, pass_)
    achieved = roofline.gigabytes_per_second(bytes_moved, timing.median)
    if case.device == "cpu":
        tensor_bytes = roofline.minimum_bytes(batch, shape, dtype, "forward") // 2
        bandwidth, ceiling_kind = stream.ceiling(bytes_moved, tensor_bytes, record.get("threads"))
    else:  # numpy cannot reach device memory: the framework's kernel is the best measure there
        bandwidth, ceiling_kind = framework, f"device ({backend.NAME} elementwise)"
    record.update(
        status="ok", layer_step_seconds=timing.summary(),
        layer_samples_per_sec=metrics.samples_per_second(batch, timing.median),
        timing_cv=roofline.coefficient_of_variation(timing.stddev, timing.mean),
        bytes_moved=bytes_moved, achieved_gb_per_s=achieved, bandwidth_gb_per_s=bandwidth,
        bandwidth_fraction=roofline.bandwidth_fraction(achieved, bandwidth), ceiling_kind=ceiling_kind,
        framework_gb_per_s=framework, framework_fraction=roofline.bandwidth_fraction(achieved, framework),
        weights_finite=bool(all(np.isfinite(compat.to_numpy(w)).all() for w in layer.weights)),
        case_seconds=time.perf_counter() - started,
    )
    benchmarks.append(timing.benchmark)
    return record
