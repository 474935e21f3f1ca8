"""Measure normbench itself: engine cost per case and worker memory over a 300-case run.

``python -m bench.execute.overhead`` (or ``tox -e overhead``) runs 300 tiny cases and prints, last, the
engine overhead per case (wall time beyond the cases' own work: process start-up, worker recycling,
record writing, progress) and the workers' peak RSS at the 20th and 300th case. It measures; it
asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

SUITE = """
name: overhead
description: 300 tiny cases to measure the engine, not the normalizers.
dataset: {name: synthetic, samples: 64, classes: 2, image_size: 4}
model: {name: mlp, widths: [4]}
training: {epochs: 1, batch_size: 16}
normalizers:
  batch: {}
  layer: {}
grid:
  epsilon: [1.0e-5, 2.0e-5, 5.0e-5, 1.0e-4, 2.0e-4, 5.0e-4, 1.0e-3, 2.0e-3, 5.0e-3, 1.0e-2]
  learning_rate: [0.01, 0.02, 0.05, 0.1, 0.2]
seeds: [0, 1, 2]
devices: [cpu]
timing: {min_rounds: 1, max_time: 0.001, warmup_rounds: 0}
"""


def main() -> int:
    from bench.execute import run_cases, run_info
    from bench.results.store import RunStore
    from bench.suite import load_suite

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overhead.yaml"
        path.write_text(SUITE)
        suite = load_suite(path)
        store = RunStore.create(Path(tmp) / "results", run_info([suite], quick=False))
        started = time.perf_counter()
        result = run_cases(store, [suite], quick=False)
        wall = time.perf_counter() - started
        records = store.load().records
    if result.interrupted:
        return 130
    work = sum(r["case_seconds"] or 0.0 for r in records)
    rss = [r["worker_peak_rss_mb"] for r in records]
    n = len(records)
    print(f"cases={n} wall_s={wall:.1f} case_work_s={work:.1f} statuses={dict(result.counts)}")
    print(f"engine_overhead_per_case_s={(wall - work) / n:.3f} (includes TensorFlow start-up in each worker)")
    if n >= 300 and all(rss):
        growth = rss[299] / rss[19] - 1
        print(f"peak_rss_mb case20={rss[19]:.0f} case300={rss[299]:.0f} max={max(rss):.0f} growth={growth:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
