"""Data-parallel training on several devices (TensorFlow's ``MirroredStrategy``): the setting the
small-batch question really comes from (Wu & He, 2018: BatchNorm's batch is *images per GPU*).

Each training step hands every replica an equal slice of the global batch; gradients are summed
across replicas by the Keras optimizer (each replica's loss is divided by the replica count, so the
step follows the global batch's mean loss). A BatchNorm computes its statistics on its replica's
slice, unless it is ``synchronized`` (statistics over the global batch, all-reduced every step).
On a CPU machine the replicas are logical CPU devices (``configure_logical_devices``, called when
a TensorFlow worker starts in a run that has such cases: the driver sets
``NORMBENCH_REPLICA_DEVICES``); on a GPU machine they are GPUs. Evaluation and timing reuse the single-
device code paths: prediction runs outside the replicas on the mirrored weights, the timed train
step is the replicated one (its cost includes synchronization).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import tensorflow as tf

from bench.core.errors import ImplementationUnavailable
from bench.measure import compat
from bench.measure.training import Trainer


def configure_logical_devices(count: int) -> None:
    """Split the CPU into ``count`` logical devices (before TensorFlow's runtime starts; later it
    cannot). They share the process's thread pools; only runs with replicas ask for them, because
    a model traced with several devices present costs a little more to build (measured here:
    about 0.1-0.3 s more per case)."""
    cpus = tf.config.list_physical_devices("CPU")
    if not cpus or len(tf.config.get_logical_device_configuration(cpus[0]) or []) >= count:
        return
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:  # the runtime started already: cases with replicas say so when they run
        pass


def replica_devices(device: str, replicas: int) -> list[str]:
    """The devices of ``replicas`` replicas on ``device`` (cpu or gpu); ImplementationUnavailable
    (the case is recorded skipped) when this machine has fewer."""
    kind = "GPU" if device == "gpu" else "CPU"
    found = [d.name for d in tf.config.list_logical_devices(kind)]
    if len(found) < replicas:
        where = ("GPUs" if kind == "GPU" else
                 "logical CPU devices (a worker makes as many as NORMBENCH_REPLICA_DEVICES, which the "
                 "driver sets for runs with replicas, says when it starts)")
        raise ImplementationUnavailable(f"replicas={replicas} needs {replicas} {where}; this worker has {len(found)}")
    return found[:replicas]


@contextlib.contextmanager
def replicated(device: str, replicas: int) -> Iterator[type]:
    """A scope in which models and optimizers are built mirrored over ``replicas`` devices; yields
    the trainer class to build with it (called as ``trainer(model, optimizer)``)."""
    # On CPUs MirroredStrategy picks ring collectives, whose launch order may differ between replicas
    # when synchronized BN's all-reduces and the gradients' share a step ("shape mismatch in the
    # collective instance"); reducing on one device keeps every replica's reductions in one order.
    cross_device_ops = tf.distribute.ReductionToOneDevice() if device == "cpu" else None
    strategy = tf.distribute.MirroredStrategy(replica_devices(device, replicas), cross_device_ops=cross_device_ops)
    with strategy.scope():
        yield lambda model, optimizer, variables=None: ReplicatedTrainer(model, optimizer, strategy, variables)


class ReplicatedTrainer(Trainer):
    """:class:`~bench.measure.training.Trainer` with each step run on every replica."""

    def __init__(self, model, optimizer, strategy: tf.distribute.Strategy, variables=None):
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync
        super().__init__(model, optimizer, variables)

    def _train_step(self, x, y):
        per_replica = tf.shape(x)[0] // self.replicas

        def replica_step(x, y):
            index = tf.distribute.get_replica_context().replica_id_in_sync_group
            start = index * per_replica
            x, y = x[start:start + per_replica], y[start:start + per_replica]
            with tf.GradientTape() as tape:
                logits = self.model(x, training=True)
                loss = tf.cast(self.loss_fn(y, logits), tf.float32)
                scaled = compat.scale_loss(self.optimizer, loss / self.replicas)
            grads = tape.gradient(scaled, self.variables)
            compat.apply_gradients(self.optimizer, grads, self.variables)
            return loss

        losses = self.strategy.run(replica_step, args=(x, y))
        return self.strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)
