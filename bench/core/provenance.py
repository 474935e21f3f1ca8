"""What a record needs to be trusted later: machine, software versions, commit. No TensorFlow here;
the framework's own versions and devices come from each Keras backend's ``framework()``
(:mod:`bench.measure.backends`)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def machine() -> dict:
    return {
        "host": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def git_commit(cwd: str | Path = ".") -> dict:
    """The checked-out commit and whether tracked files differ from it; 'unknown' outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"id": "unknown", "dirty": None}
    return {"id": commit, "dirty": dirty}


def argv() -> list[str]:
    """The command as the user would retype it (``python -m bench`` and the script are the same)."""
    return ["normbench", *sys.argv[1:]]
