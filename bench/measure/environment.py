"""Framework versions and devices: recorded in run.json, and why GPU cases are skipped."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def framework() -> dict:
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append(details.get("device_name", device.name))
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "keras_backend": keras.backend.backend(), "gpus": gpus}


def gpu_unavailable_reason() -> str | None:
    """None when TensorFlow sees a GPU, else the reason GPU cases are skipped."""
    if tf.config.list_physical_devices("GPU"):
        return None
    built = "with" if tf.test.is_built_with_cuda() else "without"
    return f"no GPU visible to TensorFlow {tf.__version__} (built {built} CUDA)"
