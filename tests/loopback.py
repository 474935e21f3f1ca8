"""Run a command in a network namespace that has only loopback: ``python -m tests.loopback pytest -q``.

The tests start real Ray clusters. Outside such a namespace Ray binds to the machine's external
address and probes a public DNS server to find it; inside, everything stays on 127.0.0.1. Needs root
(``unshare -n``, as in CI) or unprivileged user namespaces (``unshare -rn``); where neither works the
command runs as is and the tests that start Ray skip (``tests.ray_helpers.loopback_only``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys


def loopback_only() -> bool:
    """Whether this process's network namespace has no interface but loopback (``if_nameindex``
    asks the kernel for this namespace; /sys/class/net may still show the host's)."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m tests.loopback COMMAND [ARGS...]")
    if loopback_only():
        os.execvp(argv[0], argv)
    if shutil.which("unshare") and shutil.which("ip"):
        for unshare in (["unshare", "-n"], ["unshare", "-rn"]):
            if subprocess.run([*unshare, "ip", "link", "set", "lo", "up"], capture_output=True).returncode == 0:
                os.execvp(unshare[0], [*unshare, "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv])
    print("tests.loopback: cannot make a loopback-only network namespace (needs root or user namespaces, "
          "and unshare and ip); the tests that start Ray will skip", file=sys.stderr)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
