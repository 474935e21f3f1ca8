"""``normbench fidelity``: does normbench's own timing add cost? A benchmark, not a test.

BatchNorm's forward pass (training mode, float32, the 64 x 32 x 32 x 64 = 16 MiB input) is timed
twice in one process, alternating: through the same code path a layer suite case takes
(:func:`bench.measure.layer_case.measure_layer_case`: pytest-benchmark rounds, the one-element
device sync), and by a bare hand-written loop around a ``tf.function``. The ratio of their
samples/s should be 1 within 0.95-1.05; each method's coefficient of variation is printed too.
"""

from __future__ import annotations

import statistics
import sys
import time

FIDELITY_SUITE = {
    "name": "fidelity", "workload": "layer", "normalizers": {"batch": {}},
    "layer": {"shape": "cifar_64", "batch_size": 64, "dtype": "float32", "pass": "forward",
              "mode": "training", "jit_compile": False},
    "devices": ["cpu"], "timing": {"min_rounds": 15, "max_time": 0.5, "warmup_rounds": 10, "round_time": 0.02},
}
BOUNDS = (0.95, 1.05)


def bare_loop(rounds: int, iterations: int, warmup: int) -> list[float]:
    """Seconds per call of a plain ``tf.function`` around a fresh Keras BatchNormalization, one
    value per round of ``iterations`` back-to-back calls (the rounds normbench's timing used)."""
    import keras
    import tensorflow as tf

    settings = FIDELITY_SUITE["layer"]
    from bench.suite.catalog import LAYER_SHAPES

    layer = keras.layers.BatchNormalization()
    x = tf.random.normal((settings["batch_size"], *LAYER_SHAPES[settings["shape"]]))
    forward = tf.function(lambda x: layer(x, training=True))
    for _ in range(warmup):
        forward(x)
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(iterations):
            forward(x)  # on the CPU a tf.function call returns when its kernels have run
        seconds.append((time.perf_counter() - started) / iterations)
    return seconds


def run_fidelity(trials: int = 7, stream=None) -> float:
    """Alternate ``trials`` normbench measurements with bare loops, normbench first in odd trials
    and second in even ones; returns the median of the per-trial ratios (pairing neighbours
    cancels the machine's slow drift, swapping the order cancels position bias)."""
    from bench.measure.layer_case import measure_layer_case
    from bench.results.records import new_record
    from bench.suite import expand
    from bench.suite.loader import suite_from_document

    stream = stream or sys.stdout
    (case,) = expand(suite_from_document(FIDELITY_SUITE, "<fidelity>"))
    batch = FIDELITY_SUITE["layer"]["batch_size"]
    ours, bare, our_cvs, bare_cvs, bandwidths = [], [], [], [], []
    calibration = None  # normbench's (rounds, iterations); the bare loop repeats them

    def time_ours() -> None:
        nonlocal calibration
        record = measure_layer_case(case, new_record(case, "fidelity"), [])
        bandwidths.append(record["bandwidth_gb_per_s"])
        calibration = tuple(record["layer_step_seconds"][k] for k in ("rounds", "iterations"))
        ours.append(record["layer_samples_per_sec"])
        our_cvs.append(record["timing_cv"])

    def time_bare() -> None:
        seconds = bare_loop(*calibration, FIDELITY_SUITE["timing"]["warmup_rounds"])
        bare.append(batch / statistics.median(seconds))
        bare_cvs.append(statistics.stdev(seconds) / statistics.mean(seconds))

    steps = {"normbench": time_ours, "bare loop": time_bare}
    for trial in range(trials):
        first, second = order(trial)
        steps[first]()
        steps[second]()
        rounds, iterations = calibration
        print(f"trial {trial + 1} ({first} first): normbench "
              f"{ours[-1]:,.0f} samples/s (CV {our_cvs[-1]:.1%}, {rounds} rounds of {iterations}), "
              f"bare loop {bare[-1]:,.0f} samples/s (CV {bare_cvs[-1]:.1%}), ratio {ours[-1] / bare[-1]:.3f}",
              file=stream)
    ratios = [o / b for o, b in zip(ours, bare)]
    print(f"BatchNormalization forward, training mode, float32, 64x32x32x64 on CPU; machine ceiling "
          f"{min(bandwidths):.1f}-{max(bandwidths):.1f} GB/s", file=stream)
    print(verdict(ratios, our_cvs + bare_cvs), file=stream)
    ratio = statistics.median(ratios)
    print(f"ratio={ratio:.3f}", file=stream, flush=True)
    return ratio


def order(trial: int) -> tuple[str, str]:
    """Which method goes first in ``trial`` (0-based): normbench, then the bare loop, then swapped,
    and so on (AB BA AB ...), so neither gains from a position (a warmer cache, a drift); trial 0
    must start with normbench, whose calibration the bare loop reuses."""
    return ("normbench", "bare loop") if trial % 2 == 0 else ("bare loop", "normbench")


def verdict(ratios: list[float], cvs: list[float]) -> str:
    """The spread of the per-trial ratios and whether they sit inside BOUNDS; when some do not,
    why: a timing noise (CV) as large as the bounds cannot resolve a 5% difference in one trial."""
    low, high = BOUNDS
    outside = [r for r in ratios if not low <= r <= high]
    median_cv = statistics.median(cvs)
    text = (f"ratios {', '.join(f'{r:.3f}' for r in ratios)}: median {statistics.median(ratios):.3f}, "
            f"spread {min(ratios):.3f}-{max(ratios):.3f}; median CV of the timings {median_cv:.1%}; ")
    if not outside:
        return text + f"every ratio within {low}-{high}"
    median = statistics.median(ratios)
    if median_cv >= high - 1:
        reason = (f"the timings' own noise (median CV {median_cv:.1%}) is as large as the {high - 1:.0%} bound, "
                  f"so one trial cannot resolve it: a busy machine")
    elif min(ratios) < 1 < max(ratios) and low <= median <= high:
        reason = ("they fall on both sides of 1 and the median is inside: the machine's speed moved between "
                  "the two timings of a trial, not a steady cost of either path")
    else:
        reason = "they lean one way and the timings are steady: a difference in the code path, investigate"
    return text + f"{len(outside)} of {len(ratios)} outside {low}-{high}: {reason}"
