"""The contract between the driver (:mod:`bench.execute.runner`) and an executor.

An executor runs cases somewhere (:class:`~bench.execute.serial.SerialExecutor`: one worker process
at a time; :class:`~bench.execute.ray_executor.RayExecutor`: the slots of a Ray cluster) and hands
each finished record back through :data:`Finished`. The driver alone writes the run directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

# Called by an executor as each case finishes: (record, pytest-benchmark entries, node label).
Finished = Callable[[dict, list, str], None]

# A worker is replaced after this many cases: TensorFlow keeps a few MiB per traced model that
# ``clear_session`` does not give back.
MAX_CASES_PER_WORKER = 100
# Seconds a worker may take to import its framework before it counts as failed to start.
START_TIMEOUT = 300.0


@dataclass(frozen=True)
class Execution:
    """Where cases run: ``workers`` 1 is the serial executor, more (or 0: one per core) an
    embedded Ray cluster; ``address`` joins an existing Ray cluster. ``threads`` pins each
    worker's TensorFlow thread pools (None: the CPUs its slot holds; serially, TensorFlow's default)."""

    workers: int = 1
    address: str | None = None
    threads: int | None = None
    verbose: bool = False  # False: serial workers' framework output goes to the run's worker.log

    @property
    def uses_ray(self) -> bool:
        return self.address is not None or self.workers != 1


class Executor(Protocol):
    """What the driver needs of an executor, once its workers have started."""

    frameworks: dict[str, dict]  # Keras backend -> its framework's name and version, as the workers report
    unavailable: dict[str, str]  # Keras backend -> why its workers could not start
    gpu_reasons: dict[str, "str | None"]  # Keras backend -> why it has no GPU here (None: it has one)

    def describe(self) -> dict:
        """What run.json records of this execution (executor, slots, nodes...)."""

    def execute(self, cases: Sequence, finished: Finished, more: "Callable[[], list] | None" = None) -> None:
        """Run ``cases``, calling ``finished`` once per case as it ends (failed ones included); when
        the queue runs dry and a case has finished since the last ask, ``more()`` may add cases."""

    def running_by_node(self) -> dict[str, int]:
        """Cases in flight per node, for the progress line."""

    def stop(self) -> None:
        """Stop every worker; safe to call twice."""
