"""Execution: order the cases, run them on an executor (a serial worker or a Ray cluster), own results/.

``contract`` is what the driver and an executor agree on; ``runner`` is the driver and the only
writer of the run directory; ``serial`` and ``ray_executor`` are the two executors; ``in_worker``
is what a worker process of either does with one case.
"""

from bench.execute.contract import Execution
from bench.execute.runner import RunResult, plan_extra_cases, run_cases, run_info

__all__ = ["Execution", "RunResult", "plan_extra_cases", "run_cases", "run_info"]
