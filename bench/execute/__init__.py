"""Execution: order the cases, run them on a backend (a serial worker or a Ray cluster), own results/.

``runner`` is the driver and the only writer of the run directory; ``serial`` and ``ray_backend``
are the two backends; ``in_worker`` is what a worker process of either does with one case.
"""

from bench.execute.runner import Execution, RunResult, plan_extra_cases, run_cases, run_info

__all__ = ["Execution", "RunResult", "plan_extra_cases", "run_cases", "run_info"]
