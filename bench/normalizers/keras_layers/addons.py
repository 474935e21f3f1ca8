"""tensorflow-addons, imported only on demand and only where it can be.

tensorflow-addons reached end of life in May 2024; its last release (0.23.0) imports only with
TensorFlow 2.13-2.15. In the main environment (TensorFlow 2.21) a ``tfa`` implementation is
therefore unavailable, and its cases are recorded as skipped with the reason.
"""

from __future__ import annotations

import warnings

from bench.core.errors import ImplementationUnavailable


def tfa_group_normalization(**options):
    try:
        with warnings.catch_warnings():  # its end-of-life notice, printed on every import
            warnings.simplefilter("ignore")
            import tensorflow_addons as tfa
    except Exception as exc:  # ModuleNotFoundError here; on TF >= 2.16 it fails inside tfa itself
        import tensorflow as tf

        raise ImplementationUnavailable(
            f"tensorflow-addons cannot be imported with TensorFlow {tf.__version__} "
            f"({type(exc).__name__}: {exc}); it needs TensorFlow 2.13-2.15: run it with tox -e bench-tfa"
        ) from None
    return tfa.layers.GroupNormalization(axis=-1, **options)
