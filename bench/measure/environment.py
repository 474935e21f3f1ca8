"""Framework versions and devices, recorded in run.json beside the machine facts."""

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
