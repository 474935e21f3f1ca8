"""What the tests that start Ray share: a loopback-only guard, normbench in a subprocess with a
private Ray token, local multi-node clusters started with ``ray start``, and a leftover-process check."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.loopback import loopback_only

TINY = str(FIXTURES / "suites" / "tiny.yaml")

needs_ray = [
    pytest.mark.tensorflow,
    pytest.mark.skipif(not loopback_only(), reason="starts Ray: run under `python -m tests.loopback` "
                                                   "(a loopback-only network namespace), as tox -e py does"),
]


def ray_env(**extra: str) -> dict[str, str]:
    """The environment of a process that talks to a test cluster: a private token, no usage stats,
    and a marker that every process it starts inherits (see :func:`leftover_processes`)."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": TOKEN, "NORMBENCH_TEST_MARK": MARK, **extra}
    env.pop("RAY_ADDRESS", None)
    return env


TOKEN = secrets.token_hex(32)
MARK = secrets.token_hex(8)


def normbench(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=ray_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def start_normbench(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=ray_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def records(results: Path) -> list[dict]:
    return [json.loads(line) for line in (results / "latest" / "cases.jsonl").read_text().splitlines()]


def wait_for_records(results: Path, count: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    cases = results / "latest" / "cases.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if cases.exists() and sum(r["status"] != "skipped" for r in records(results)) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"no {count} finished cases within {timeout} s (exit code {proc.poll()})")


def leftover_processes() -> list[str]:
    """Command lines of live processes started by this module's normbench runs (marked by env)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            if f"NORMBENCH_TEST_MARK={MARK}".encode() not in environ:
                continue
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has exited; only its parent's wait() is missing
            found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120])
        except OSError:
            continue
    return found


def no_leftovers(timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := leftover_processes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


class LocalCluster:
    """A Ray head plus worker nodes on 127.0.0.1, each a ``ray start --block`` in its own process
    group, so a test can kill one node (raylet and workers) the way a lost machine would go."""

    def __init__(self, tmp_path: Path):
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen] = []
        self.tmp_path = tmp_path

    def start_node(self, cpus: int, head: bool = False, **env: str) -> subprocess.Popen:
        """A node of ``cpus`` CPUs; ``env``: variables its workers see (Ray actors inherit the node's
        environment, not the driver's: NORMBENCH_FAULTS for a cluster's cases goes here)."""
        role = ["--head", f"--port={self.port}", "--include-dashboard=false",
                "--node-ip-address=127.0.0.1"] if head else [f"--address={self.address}"]
        log = open(self.tmp_path / f"node{len(self.nodes)}.log", "w")
        proc = subprocess.Popen(["ray", "start", *role, f"--num-cpus={cpus}", "--num-gpus=0", "--block",
                                 "--disable-usage-stats"], env=ray_env(PATH=_venv_path(), **env), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.nodes.append(proc)
        return proc

    def wait_for(self, count: int, timeout: float = 90) -> None:
        script = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
                  "print(sum(n['Alive'] for n in ray.nodes()))")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run([sys.executable, "-c", script, self.address], env=ray_env(),
                                 capture_output=True, text=True, timeout=60)
            if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            time.sleep(1)
        raise AssertionError(f"the local Ray cluster did not reach {count} nodes: {out.stderr[-2000:]}")

    def kill(self, node: subprocess.Popen) -> None:
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.wait(30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            self.kill(node)


def _venv_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
