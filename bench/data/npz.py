"""A user's own data: a NumPy ``.npz`` file with ``x_train``, ``y_train``, ``x_test``, ``y_test``.

Checked when the suite is loaded, before anything runs, so a bad file is one line that names it:
the four arrays present, inputs numeric and finite with matching shapes, labels integral
and within the class range. ``x`` of shape (N, H, W) gains a channel axis; (N, features) suits
the MLP only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.data import Dataset

ARRAYS = ("x_train", "y_train", "x_test", "y_test")
CHECKED_FIELD = "path"


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> tuple[np.ndarray, ...]:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError) as exc:  # numpy says "pickled data" for any non-numpy file
        raise ValueError(f"{path}: not a NumPy .npz file ({type(exc).__name__})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds one array, not an .npz archive of {', '.join(ARRAYS)}")
    with data:
        missing = [name for name in ARRAYS if name not in data.files]
        if missing:
            raise ValueError(f"{path}: missing array(s) {', '.join(missing)} (it has: "
                             f"{', '.join(data.files) or 'none'}; needs {', '.join(ARRAYS)})")
        try:
            return tuple(np.asarray(data[name]) for name in ARRAYS)
        except ValueError as exc:  # an object array: refused rather than unpickled
            raise ValueError(f"{path}: {exc}".splitlines()[0][:300]) from None


def read_checked(path: str | Path, classes: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The four arrays (inputs float32 with a channel axis for images, labels int32) and the class
    count (``classes``, or the largest label + 1 when 0); ValueError with one line otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    x_train, y_train, x_test, y_test = _read(str(path), path.stat().st_mtime)
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        if x.dtype.kind not in "iuf" or x.ndim < 2:
            raise ValueError(f"{path}: {name} must be a numeric array of shape (N, ...), got {x.dtype} {x.shape}")
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise ValueError(f"{path}: {name} has {bad} NaN or infinite value(s)")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"{path}: x_train examples are {x_train.shape[1:]} but x_test examples are {x_test.shape[1:]}")
    for name, y, x in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"{path}: {name} must hold one label per example ({len(x)}), got shape {y.shape}")
        if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
            raise ValueError(f"{path}: {name} must hold integer class labels, got {y.dtype}")
    labels = np.concatenate([y_train, y_test]).astype(np.int64)
    found = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.min() < 0:
        raise ValueError(f"{path}: labels must be >= 0, found {int(labels.min())}")
    if classes and found > classes:
        raise ValueError(f"{path}: label {found - 1} is out of range for classes: {classes} (labels 0..{classes - 1})")
    classes = classes or found
    if classes < 2:
        raise ValueError(f"{path}: needs at least 2 classes, found {classes}")
    if len(x_train) == 0 or len(x_test) == 0:
        raise ValueError(f"{path}: x_train and x_test must not be empty")
    x_train, x_test = (x.astype(np.float32)[..., np.newaxis] if x.ndim == 3 else x.astype(np.float32)
                       for x in (x_train, x_test))
    return x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int32), classes


def load_npz(path: str, classes: int = 0, input_scale: float = 1.0) -> Dataset:
    x_train, y_train, x_test, y_test, classes = read_checked(path, classes)
    scale = np.float32(input_scale)
    return Dataset(x_train * scale, y_train, x_test * scale, y_test, classes)


load = load_npz


def train_size(options: dict) -> int:
    return len(read_checked(options["path"], options["classes"])[1])


def example_shape(options: dict) -> tuple[int, ...]:
    return tuple(read_checked(options["path"], options["classes"])[0].shape[1:])


def check(options: dict, folder: Path) -> dict:
    """The path resolved against the suite's folder and the file checked now, so a bad file stops
    the suite before anything runs."""
    if not options["path"]:
        raise ValueError("is required for dataset npz (a .npz file with x_train, y_train, x_test, y_test)")
    path = (folder / Path(options["path"]).expanduser()).resolve()
    read_checked(path, options["classes"])
    return {**options, "path": str(path)}
