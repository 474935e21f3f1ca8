"""Start an embedded Ray cluster on this machine, or join an existing one.

The embedded cluster (``--workers N``) keeps Ray's dashboard off and its token authentication on:
an unauthenticated Ray cluster runs whatever code anyone who reaches its ports sends it. Ray's usage
statistics are off unless the user turned them on. Joining (``--address`` or ``RAY_ADDRESS``)
uses the cluster as its owner set it up; the nodes must have normbench and TensorFlow installed.
"""

from __future__ import annotations

import os
import secrets
import signal
from dataclasses import dataclass

from bench.core.errors import NormbenchError

OBJECT_STORE_BYTES = 256 << 20  # records and timing rounds are small; Ray's default is 30% of RAM


@dataclass
class Cluster:
    address: str  # host:port, or "embedded"
    nodes: list[dict]  # ray.nodes() entries of the alive nodes

    @property
    def cpus(self) -> int:
        return int(sum(node["Resources"].get("CPU", 0) for node in self.nodes))

    @property
    def gpus(self) -> int:
        return int(sum(node["Resources"].get("GPU", 0) for node in self.nodes))


def connect(address: str | None, num_cpus: int | None = None) -> Cluster:
    """Join the cluster at ``address``, or start an embedded one of ``num_cpus`` when it is None."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not address:
        # Read when ray is imported: set first. A fresh token per embedded cluster, passed to its
        # processes in their environment, so none is left in ~/.ray for later runs to reuse.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    try:
        import ray
    except ImportError:
        raise NormbenchError("parallel runs (--workers, --address) need Ray: pip install 'ray==2.60.0' "
                             "(the tox environments install it)") from None
    sigterm = signal.getsignal(signal.SIGTERM)
    options = dict(log_to_driver=False, configure_logging=True, logging_level="error")
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                     object_store_memory=OBJECT_STORE_BYTES, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "an embedded Ray cluster"
        raise NormbenchError(f"could not start or join {where}: {_first_line(exc)}") from None
    finally:
        # ray.init replaces the SIGTERM handler with one that exits at once; normbench's own
        # handler stops the run cleanly instead (bench.cli).
        if signal.getsignal(signal.SIGTERM) != sigterm and sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    return Cluster(address=address or "embedded", nodes=nodes)


def disconnect() -> None:
    """Leave the cluster; an embedded one stops with every process it started."""
    import ray

    ray.shutdown()  # a no-op when nothing was started


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
