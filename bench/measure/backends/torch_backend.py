"""PyTorch: eager execution (Keras's torch trainer default; ``torch.compile`` only for a layer
suite's ``jit_compile``), placement with ``keras.device``.

A training step is the model's forward pass, ``loss.backward()`` and the Keras optimizer's update
under ``torch.no_grad``, as Keras's own torch trainer runs it. Eager kernels on a GPU are queued:
every timed call ends with ``torch.cuda.synchronize()`` there, so the clock stops when the device
is done (on the CPU eager calls return finished).
"""

from __future__ import annotations

import inspect
from typing import Callable

import keras
import numpy as np
import torch

from bench.core.errors import ImplementationUnavailable
from bench.measure import compat
from bench.measure.backends.keras_trainer import KerasTrainer
from bench.measure.schedule import epoch_orders
from bench.measure.throughput import copy_rate

NAME = "torch"
VERSION = torch.__version__
STEP_COMPILER = "torch eager"
LAYER_COMPILERS = {False: "torch eager", True: "torch.compile"}  # a layer case, by its jit_compile
COPY_ELEMENTS = 64 * 1024 * 1024


def configure(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def framework() -> dict:
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
        if torch.cuda.is_available() else []
    return {"torch": torch.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "keras_backend": NAME, "cuda": torch.version.cuda, "gpus": gpus}


def gpu_unavailable_reason() -> str | None:
    if torch.cuda.is_available():
        return None
    built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    return f"no GPU visible to PyTorch {torch.__version__} ({built})"


def device(name: str):
    if name == "gpu" and not torch.cuda.is_available():
        raise ImplementationUnavailable(gpu_unavailable_reason())
    return keras.device("cuda:0" if name == "gpu" else "cpu")


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def random_normal(shape: tuple, dtype: str):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=generator).to(getattr(torch, dtype))
    return compat.to_tensor(x)  # onto Keras's current device


class Trainer(KerasTrainer):
    """The PyTorch counterpart of :class:`bench.measure.training.Trainer` (same methods)."""

    def train_step(self, x, y):
        logits = self.model(x, training=True)
        self.model.zero_grad()
        loss = self.loss_fn(y, logits).float()
        self.optimizer.scale_loss(loss).backward()
        weights = self.model.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        return loss.detach()

    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, seed: int,
            after_epoch: Callable[[int], None] | None = None) -> np.ndarray:
        """As the TensorFlow trainer: remainder-free shuffles, every step's loss in order (kept on
        the device and copied once per epoch, so steps are not serialised by a host read)."""
        orders = epoch_orders(len(x), batch_size, epochs, seed)
        x_d, y_d = compat.to_tensor(x), compat.to_tensor(y)
        losses = []
        for epoch, order in enumerate(orders):
            index = compat.to_tensor(order.astype(np.int64))
            epoch_losses = [self.train_step(x_d[index[i]], y_d[index[i]]) for i in range(len(order))]
            losses.append(torch.stack(epoch_losses).cpu().numpy())
            if after_epoch is not None:
                after_epoch(epoch)
        return np.concatenate(losses)

    def _predict(self, x, training: bool):
        with torch.no_grad():
            return torch.argmax(self.model(x, training=training), dim=-1)

    def predict(self, x: np.ndarray, batch_size: int, training: bool) -> np.ndarray:
        out = [self._predict(compat.to_tensor(x[i:i + batch_size]), training).cpu().numpy()
               for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.int32)

    def step_functions(self, x: np.ndarray, y: np.ndarray) -> dict:
        x_d, y_d = compat.to_tensor(x), compat.to_tensor(y)

        def train():
            loss = self.train_step(x_d, y_d)
            _synchronize()
            return loss

        def infer():
            labels = self._predict(x_d, False)
            _synchronize()
            return labels

        return {"train": train, "infer": infer}


def layer_function(layer, x, pass_: str, training: bool, jit_compile: bool):
    """The layer's forward (or forward and backward, to the input and the weights) call, eager or
    through ``torch.compile``; ends with a device synchronisation."""
    flags = {"training": training} if "training" in inspect.signature(layer.call).parameters else {}
    weights = [w.value for w in layer.trainable_weights]

    def forward(x):
        return layer(x, **flags)

    if pass_ == "forward":
        def step(x):
            with torch.no_grad():
                return forward(x)
    else:
        x = x.detach().requires_grad_(True)

        def step(x):
            y = forward(x)
            return torch.autograd.grad(y, [x, *weights], grad_outputs=torch.ones_like(y))
    if jit_compile:
        step = torch.compile(step)

    def call():
        result = step(x)
        _synchronize()
        return result

    return call


def framework_ceiling(dtype: str, timing: dict, benchmarks: list) -> float:
    """GB/s of a read-once, write-once ``x * 2`` over ``COPY_ELEMENTS`` on Keras's current device."""
    x = compat.to_tensor(np.ones(COPY_ELEMENTS, dtype))

    def fn():
        y = x * 2
        _synchronize()
        return y

    return copy_rate(fn, dtype, 2 * COPY_ELEMENTS * np.dtype(dtype).itemsize, timing, benchmarks)
