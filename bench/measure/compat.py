"""Every difference between Keras 2 and Keras 3 the engine meets, in one place.

The main environment runs Keras 3 on TensorFlow 2.21; the legacy one (``tox -e bench-tfa``) runs
Keras 2.15 on TensorFlow 2.15, the newest TensorFlow that tensorflow-addons imports with. The rest
of ``bench.measure`` uses only the API the two share, and calls these helpers for the rest.
"""

from __future__ import annotations

import keras

KERAS_3 = int(keras.__version__.split(".")[0]) >= 3


def set_dtype_policy(name: str) -> None:
    """The global dtype policy (``float32``, ``mixed_float16``, ``mixed_bfloat16``)."""
    if KERAS_3:
        keras.mixed_precision.set_dtype_policy(name)
    else:
        keras.mixed_precision.set_global_policy(name)


def clear_session() -> None:
    """Drop the finished case's graphs and layers; Keras 3 may skip its full ``gc.collect()``."""
    if KERAS_3:
        keras.backend.clear_session(free_memory=False)
    else:
        keras.backend.clear_session()


def loss_scale_optimizer(optimizer):
    return keras.optimizers.LossScaleOptimizer(optimizer) if KERAS_3 \
        else keras.mixed_precision.LossScaleOptimizer(optimizer)


def build_optimizer(optimizer, variables) -> None:
    """Create the optimizer's slots now, outside any ``tf.function``."""
    inner = getattr(optimizer, "inner_optimizer", None) if not KERAS_3 else None
    (inner or optimizer).build(variables)


def scale_loss(optimizer, loss):
    """The loss to differentiate: multiplied by the loss scale under mixed_float16."""
    if KERAS_3:
        return optimizer.scale_loss(loss)
    return optimizer.get_scaled_loss(loss) if hasattr(optimizer, "get_scaled_loss") else loss


def apply_gradients(optimizer, grads, variables) -> None:
    """Apply gradients of the scaled loss (Keras 3 unscales inside ``apply``; Keras 2 does not)."""
    if KERAS_3:
        optimizer.apply(grads, variables)
        return
    if hasattr(optimizer, "get_unscaled_gradients"):
        grads = optimizer.get_unscaled_gradients(grads)
    optimizer.apply_gradients(zip(grads, variables))


def zeros(shape):
    """A zero tensor of the active backend (Keras 2: TensorFlow's)."""
    if KERAS_3:
        return keras.ops.zeros(shape)
    import tensorflow as tf

    return tf.zeros(shape)


def to_tensor(array):
    if KERAS_3:
        return keras.ops.convert_to_tensor(array)
    import tensorflow as tf

    return tf.constant(array)


def to_numpy(tensor):
    """A host copy of any backend's tensor or Keras variable."""
    if KERAS_3:
        return keras.ops.convert_to_numpy(tensor)
    return tensor.numpy()
