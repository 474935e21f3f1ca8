"""Fault injection for the robustness tests: make a chosen case crash, hang or raise in its worker.

Set ``NORMBENCH_FAULTS`` to ``substring=fault[;substring=fault...]``; a case whose id contains the
substring suffers the fault. Faults: ``raise`` (an exception), ``exit`` (``os._exit(3)``),
``segfault`` (SIGSEGV), ``kill`` (SIGKILL, as the kernel's OOM killer does), ``oom`` (a hard
address-space limit just above current use, then an allocation past it), ``hang`` (sleeps forever), ``slow``
(sleeps 3 s, then runs the case normally: keeps a case in flight for interruption tests),
``double_steps`` (every timed train and predict step runs twice: a planted 2x slowdown for
``normbench compare``). Unset, as in every real run, this does nothing.
"""

from __future__ import annotations

import os
import signal
import time

VARIABLE = "NORMBENCH_FAULTS"


def inject(case_id: str) -> None:
    for fault in _faults_for(case_id):
        _FAULTS[fault]()


def step_repeats(case_id: str) -> int:
    """How many times each timed step runs per call: 2 under ``double_steps``, else 1."""
    return 2 if "double_steps" in _faults_for(case_id) else 1


def _faults_for(case_id: str) -> list[str]:
    spec = os.environ.get(VARIABLE)
    if not spec:
        return []
    found = []
    for item in spec.split(";"):
        substring, _, fault = item.rpartition("=")  # case ids contain "=" themselves
        if substring and substring in case_id:
            found.append(fault)
    return found


def _raise():
    raise RuntimeError("injected failure")


def _oom():
    import resource

    with open("/proc/self/status") as status:
        vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm_kib * 1024 + (256 << 20), hard))
    hog = [bytearray(64 << 20) for _ in range(64)]  # 4 GiB: far past the limit
    raise AssertionError(f"allocated {len(hog)} blocks under a memory limit")


def _hang():
    while True:
        time.sleep(60)


_FAULTS = {
    "raise": _raise,
    "exit": lambda: os._exit(3),
    "segfault": lambda: os.kill(os.getpid(), signal.SIGSEGV),
    "kill": lambda: os.kill(os.getpid(), signal.SIGKILL),
    "oom": _oom,
    "hang": _hang,
    "slow": lambda: time.sleep(3),
    "double_steps": lambda: None,  # acts in the timing phase: see step_repeats
}
