"""A timing group that spans Keras backends (a suite with a ``backend`` grid axis): each backend's
share is trained in that backend's worker (the workers train side by side), then the workers take
turns, round by round, timing their share, the order reversed every other round (ABBA), on this one
machine with nothing else running. Round r of one backend is then moments apart from round r of the
other, so the per-round ratios that speed verdicts use (bench.analysis.paired_timing) cancel the
drift between processes and minutes that made backend speed verdicts unpaired and wide.
"""

from __future__ import annotations

from bench.execute.timing_groups import backend_of
from bench.suite import Case


class StepFailed(Exception):
    """A step of a held group's timing raised in its worker (which is still alive)."""


def run_across(workers: dict, cases: list[Case], timing_group: str) -> list[tuple[dict, list]]:
    """``(record, benchmarks)`` of each case, in the order given; ``workers``: a started worker per
    backend the cases use (bench.execute.serial.Worker). Raises CaseAborted when a worker dies; a
    step that raises in a worker makes every worker time its share alone instead (StepFailed
    only when even that fails)."""
    from bench.measure.throughput import rounds_for  # pytest-benchmark: loaded when a group is timed

    parts: dict[str, list[Case]] = {}
    for case in cases:
        parts.setdefault(backend_of(case), []).append(case)
    timeout = sum(case.timing["case_timeout"] for case in cases)
    for name, part in parts.items():
        workers[name].hold(part)
    results, holding = [], []
    for name in parts:
        finished, count = workers[name].held(timeout)
        results += finished
        if count:
            holding.append(workers[name])
    try:
        phases = [worker.step("start", timing_group) for worker in holding]
        timed = [worker for worker, count in zip(holding, phases) if count]
        for phase in range(max(phases, default=0)):
            sizes = [worker.step("calibrate", phase, timeout=timeout) for worker in timed]
            rounds = rounds_for(sum(n for n, _ in sizes), sum(seconds for _, seconds in sizes),
                                cases[0].timing["min_rounds"], cases[0].timing["max_time"])
            for r in range(rounds):
                for worker in timed if r % 2 == 0 else reversed(timed):
                    worker.step("run_round", r, timeout=timeout)
            for worker in timed:
                worker.step("end_phase")
    except StepFailed:
        for worker in holding:
            results += worker.step("alone", timeout=timeout)
    else:
        for worker in holding:
            results += worker.step("finish", timeout=timeout)
    order = {case.case_id: i for i, case in enumerate(cases)}
    return sorted(results, key=lambda result: order[result[0]["case_id"]])
