"""Progress on long runs: a tqdm bar with ETA on a terminal, one plain line per case elsewhere
(CI logs and tox output piped to a file stay readable). With several nodes, each line also says how
many cases each node has running and finished.

The ETA divides the wall time so far by the cases finished, so it already accounts for cases that
run side by side: with two slots busy, cases finish twice as often.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Mapping, TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, interactive: bool | None = None):
        self.total = total
        self.done = 0
        self.done_by_node: Counter = Counter()
        self.stream = stream = stream or sys.stderr
        self.started = time.monotonic()
        interactive = stream.isatty() if interactive is None else interactive
        self._bar = None
        if interactive and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=stream, unit="case", dynamic_ncols=True)

    def advance(self, case_id: str, status: str, seconds: float, node: str = "",
                running: Mapping[str, int] | None = None) -> None:
        self.done += 1
        self.done_by_node[node] += 1
        nodes = self.nodes(running or {})
        if self._bar is not None:
            self._bar.set_postfix_str(f"{status} {case_id}" + (f" [{nodes}]" if nodes else ""), refresh=False)
            self._bar.update(1)
            return
        print(f"[{self.done}/{self.total}] {status:<7} {seconds:6.1f}s  {case_id}  (eta {self.eta()})"
              + (f"  [{nodes}]" if nodes else ""), file=self.stream, flush=True)

    def grow(self, more: int, why: str) -> None:
        """``more`` cases joined the run (a budgeted run's next seeds): said once, counted in the ETA."""
        if more <= 0:
            return
        self.total += more
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()
        else:
            print(f"[{self.done}/{self.total}] +{more} cases: {why}", file=self.stream, flush=True)

    def nodes(self, running: Mapping[str, int]) -> str:
        """``node: N running, M done`` per node, only when more than one node has taken part."""
        names = sorted(set(self.done_by_node) | set(running))
        if len(names) < 2:
            return ""
        return "; ".join(f"{name or '-'}: {running.get(name, 0)} running, {self.done_by_node[name]} done"
                         for name in names)

    def eta(self) -> str:
        if not self.done:
            return "?"
        remaining = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        minutes, seconds = divmod(int(remaining), 60)
        return f"{minutes}m{seconds:02d}s"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
