"""Fault injection for the robustness tests: make a chosen case crash, hang or raise in its worker.

Set ``NORMBENCH_FAULTS`` to ``substring=fault[;substring=fault...]``; a case whose id contains the
substring suffers the fault. Faults: ``raise`` (an exception), ``exit`` (``os._exit(3)``),
``segfault`` (SIGSEGV), ``kill`` (SIGKILL, as the kernel's OOM killer does), ``hang`` (sleeps
forever). Unset, as in every real run, this does nothing.
"""

from __future__ import annotations

import os
import signal
import time

VARIABLE = "NORMBENCH_FAULTS"


def inject(case_id: str) -> None:
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    for item in spec.split(";"):
        substring, _, fault = item.rpartition("=")  # case ids contain "=" themselves
        if substring and substring in case_id:
            _FAULTS[fault]()


def _raise():
    raise RuntimeError("injected failure")


def _hang():
    while True:
        time.sleep(60)


_FAULTS = {
    "raise": _raise,
    "exit": lambda: os._exit(3),
    "segfault": lambda: os.kill(os.getpid(), signal.SIGSEGV),
    "kill": lambda: os.kill(os.getpid(), signal.SIGKILL),
    "hang": _hang,
}
