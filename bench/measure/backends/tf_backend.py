"""TensorFlow: ``tf.function`` steps (an epoch is one traced ``tf.range`` loop), ``tf.device``
placement. Also the Keras 2 environment's only backend, so it uses what Keras 2 and 3 share."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bench.measure.bandwidth import framework_ceiling  # noqa: F401 - the interface
from bench.measure.training import Trainer  # noqa: F401 - the interface

NAME = "tensorflow"
VERSION = tf.__version__
STEP_COMPILER = "tf.function"
LAYER_COMPILERS = {False: "tf.function", True: "tf.function (XLA)"}  # a layer case, by its jit_compile


def configure(threads: int | None) -> None:
    """``threads`` intra- and inter-op threads (None: every core), GPU memory growth (a worker on a
    shared node takes GPU memory as it needs it instead of all of it), and logical CPU devices for
    cases with replicas (bench/measure/distributed.py)."""
    from bench.measure.backends import replica_devices_wanted
    from bench.measure.distributed import configure_logical_devices

    if replica_devices_wanted() > 1:  # replicas on a CPU machine: logical devices exist from the start or never
        configure_logical_devices(replica_devices_wanted())
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


def device(name: str):
    return tf.device("/GPU:0" if name == "gpu" else "/CPU:0")


def random_normal(shape: tuple, dtype: str):
    return tf.cast(tf.random.normal(shape), dtype)


def framework() -> dict:
    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        gpus.append(details.get("device_name", gpu.name))
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "keras_backend": keras.backend.backend(), "gpus": gpus}


def gpu_unavailable_reason() -> str | None:
    """None when TensorFlow sees a GPU, else the reason GPU cases are skipped."""
    if tf.config.list_physical_devices("GPU"):
        return None
    built = "with" if tf.test.is_built_with_cuda() else "without"
    return f"no GPU visible to TensorFlow {tf.__version__} (built {built} CUDA)"


def layer_function(layer, x, pass_: str, training: bool, jit_compile: bool):
    """The function a layer case times: ``fn()`` returns when the device has finished the call. The
    traced step returns its output and a one-element slice of it: reading the slice on the host waits
    for the device without copying the whole output, and returning the output keeps XLA from
    computing only the slice."""
    if pass_ == "forward":
        def step(x):
            y = layer(x, training=training)
            return y, tf.reshape(y, [-1])[:1]
    else:
        upstream = tf.ones_like(x)

        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=training)
            grads = tape.gradient(y, [x, *layer.trainable_variables], output_gradients=upstream)
            return grads, tf.reshape(grads[0], [-1])[:1]
    compiled = tf.function(step, jit_compile=jit_compile)
    return lambda: compiled(x)[1].numpy()
