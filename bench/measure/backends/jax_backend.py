"""JAX: Keras's stateless API under ``jax.jit``, as Keras's own JAX trainer runs it.

A training step is ``model.stateless_call`` inside ``jax.value_and_grad`` followed by the
optimizer's ``stateless_apply``, one ``jax.jit`` call per batch as Keras's own JAX trainer runs it
(the same compiled step is timed). An epoch as one compiled ``lax.scan`` was 13x slower on XLA's
CPU backend here (1.0 s against 0.08 s for an epoch of the digits CNN), so the step is dispatched
batch by batch; dispatch is asynchronous, so Python's per-call cost overlaps the device's work.
Every step's loss is kept. The model's variables live as a JAX state tuple while training and are
written back to the Keras variables after each ``fit`` and timing call, so evaluation and checks
read the trained weights.
Timed calls end in ``jax.block_until_ready``: the clock stops when the device is done.
"""

from __future__ import annotations

import inspect
from typing import Callable

import jax
import jax.numpy as jnp
import keras
import numpy as np

from bench.core.errors import ImplementationUnavailable
from bench.measure.backends.keras_trainer import KerasTrainer
from bench.measure.schedule import epoch_orders
from bench.measure.throughput import copy_rate

NAME = "jax"
VERSION = jax.__version__
STEP_COMPILER = "jax.jit (a step per call)"
LAYER_COMPILERS = {False: "JAX eager (op by op)", True: "jax.jit"}  # a layer case, by its jit_compile
COPY_ELEMENTS = 64 * 1024 * 1024


def configure(threads: int | None) -> None:
    """Nothing to set after import: GPU preallocation is switched off before JAX loads
    (``backends.prepare_environment``), and XLA's CPU client has no supported thread-count
    setting, so a JAX worker uses the cores it is given by its process's CPU affinity."""


def _gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:  # no GPU platform in this jaxlib, or no device
        return []


def framework() -> dict:
    return {"jax": jax.__version__, "jaxlib": _jaxlib_version(),
            "keras": keras.__version__, "numpy": np.__version__, "keras_backend": NAME,
            "gpus": [device.device_kind for device in _gpus()]}


def _jaxlib_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("jaxlib")
    except metadata.PackageNotFoundError:
        return None


def gpu_unavailable_reason() -> str | None:
    if _gpus():
        return None
    return f"no GPU visible to JAX {jax.__version__} (platforms: {', '.join(sorted({d.platform for d in jax.devices()}))})"


def device(name: str):
    if name == "gpu":
        gpus = _gpus()
        if not gpus:
            raise ImplementationUnavailable(gpu_unavailable_reason())
        return jax.default_device(gpus[0])
    return jax.default_device(jax.devices("cpu")[0])


def random_normal(shape: tuple, dtype: str):
    return jax.random.normal(jax.random.key(0), shape, jnp.float32).astype(dtype)


def _scaled(optimizer, optimizer_values, loss):
    """``optimizer.scale_loss`` reading the loss scale from the traced optimizer state (mixed_float16)."""
    mapping = list(zip(optimizer.variables, optimizer_values))
    with keras.StatelessScope(state_mapping=mapping):
        return optimizer.scale_loss(loss)


class Trainer(KerasTrainer):
    """The JAX counterpart of :class:`bench.measure.training.Trainer` (same methods)."""

    def __init__(self, model: keras.Model, optimizer, variables=None):
        super().__init__(model, optimizer, variables)
        self.state = self._read_state()
        self._step = jax.jit(self._train_step)
        self._predict = jax.jit(self._predict_step, static_argnames="training")

    reuses_steps = True

    def variables_changed(self) -> None:
        """Training reads the state tuple, not the variables: read them again."""
        self.state = self._read_state()

    def _read_state(self) -> tuple:
        return ([v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.optimizer.variables])

    def _write_state(self) -> None:
        trainable, non_trainable, optimizer = self.state
        for variables, values in ((self.model.trainable_variables, trainable),
                                  (self.model.non_trainable_variables, non_trainable),
                                  (self.optimizer.variables, optimizer)):
            for variable, value in zip(variables, values):
                variable.assign(value)

    def _loss(self, trainable, non_trainable, optimizer_values, x, y):
        logits, non_trainable = self.model.stateless_call(trainable, non_trainable, x, training=True)
        loss = jnp.asarray(self.loss_fn(y, logits), jnp.float32)
        return _scaled(self.optimizer, optimizer_values, loss), (loss, non_trainable)

    def _train_step(self, state, x, y):
        trainable, non_trainable, optimizer_values = state
        grad_fn = jax.value_and_grad(self._loss, has_aux=True)
        (_, (loss, non_trainable)), grads = grad_fn(trainable, non_trainable, optimizer_values, x, y)
        trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads, trainable)
        return (trainable, non_trainable, optimizer_values), loss

    def _predict_step(self, state, x, training: bool):
        trainable, non_trainable, _ = state
        logits, non_trainable = self.model.stateless_call(trainable, non_trainable, x, training=training)
        return jnp.argmax(logits, axis=-1).astype(jnp.int32), non_trainable

    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, seed: int,
            after_epoch: Callable[[int], None] | None = None) -> np.ndarray:
        """As the TensorFlow trainer: remainder-free shuffles, every step's loss in order."""
        orders = epoch_orders(len(x), batch_size, epochs, seed)
        losses = []
        for epoch, order in enumerate(orders):
            epoch_losses = []
            for batch in order:
                self.state, loss = self._step(self.state, x[batch], y[batch])
                epoch_losses.append(loss)
            losses.append(np.asarray(jnp.stack(epoch_losses)))
            if after_epoch is not None:
                self._write_state()
                after_epoch(epoch)
        self._write_state()
        return np.concatenate(losses)

    def predict(self, x: np.ndarray, batch_size: int, training: bool) -> np.ndarray:
        """Class predictions in batches; ``training=True`` moves the moving averages, as in TensorFlow."""
        out = []
        for i in range(0, len(x), batch_size):
            labels, non_trainable = self._predict(self.state, jnp.asarray(x[i:i + batch_size]), training=training)
            if training:
                self.state = (self.state[0], non_trainable, self.state[2])
            out.append(np.asarray(labels))
        self._write_state()
        return np.concatenate(out)

    def step_functions(self, x: np.ndarray, y: np.ndarray) -> dict:
        """A compiled training step (state carried from call to call, as training would) and an
        inference-mode prediction, each blocking until the device is done."""
        x_d, y_d = jnp.asarray(x), jnp.asarray(y)

        def train():
            self.state, loss = self._step(self.state, x_d, y_d)
            return jax.block_until_ready(loss)

        return {"train": train,
                "infer": lambda: jax.block_until_ready(self._predict(self.state, x_d, training=False)[0])}


def layer_function(layer, x, pass_: str, training: bool, jit_compile: bool):
    """The layer's forward (or forward and backward) call through ``stateless_call``; jit_compile:
    ``jax.jit`` (XLA), else op by op (JAX's eager dispatch)."""
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    flags = {"training": training} if "training" in inspect.signature(layer.call).parameters else {}

    def forward(trainable, x):
        y, _ = layer.stateless_call(trainable, non_trainable, x, **flags)
        return y

    if pass_ == "forward":
        step = forward
    else:
        upstream = jnp.ones_like(x)

        def step(trainable, x):
            _, pullback = jax.vjp(forward, trainable, x)
            return pullback(upstream)
    if jit_compile:
        step = jax.jit(step)
    return lambda: jax.block_until_ready(step(trainable, x))


def framework_ceiling(dtype: str, timing: dict, benchmarks: list) -> float:
    """GB/s of a read-once, write-once ``x * 2`` over ``COPY_ELEMENTS`` (jit-compiled), as the
    TensorFlow backend measures it."""
    x = jax.device_put(jnp.ones((COPY_ELEMENTS,), dtype))
    scale = jax.jit(lambda x: x * jnp.asarray(2, dtype))
    return copy_rate(lambda: jax.block_until_ready(scale(x)), dtype, 2 * COPY_ELEMENTS * jnp.dtype(dtype).itemsize,
                     timing, benchmarks)
