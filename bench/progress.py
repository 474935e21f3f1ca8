"""Progress on long runs: a tqdm bar with ETA on a terminal, one plain line per case elsewhere
(CI logs and tox output piped to a file stay readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, interactive: bool | None = None):
        self.total = total
        self.done = 0
        self.stream = stream = stream or sys.stderr
        self.started = time.monotonic()
        interactive = stream.isatty() if interactive is None else interactive
        self._bar = None
        if interactive and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=stream, unit="case", dynamic_ncols=True)

    def advance(self, case_id: str, status: str, seconds: float) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(f"{status} {case_id}", refresh=False)
            self._bar.update(1)
            return
        print(f"[{self.done}/{self.total}] {status:<7} {seconds:6.1f}s  {case_id}  (eta {self.eta()})",
              file=self.stream, flush=True)

    def eta(self) -> str:
        if not self.done:
            return "?"
        remaining = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        minutes, seconds = divmod(int(remaining), 60)
        return f"{minutes}m{seconds:02d}s"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
