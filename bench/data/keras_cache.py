"""MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 from Keras's dataset cache, never downloaded here.

``keras.datasets.<id>.load_data()`` downloads into ``$KERAS_HOME/datasets`` (default ``~/.keras``)
and reads from there afterwards. normbench reads the same files in the same layout, and only those:
a machine without network gets one line that says which file to put where (the suite stops when it
loads, before anything runs), never a download attempt that hangs. Keras would also re-download a
cached file whose hash differs from the original; normbench checks the arrays instead (shapes,
labels), so a cache holding a subset still works. CIFAR's batches are pickles: they are read with
an unpickler that rebuilds numpy arrays and nothing else, as Keras's own does.
"""

from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.data import Dataset

CHECKED_FIELD = "id"
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class Source:
    """Where ``keras.datasets.<id>`` keeps one dataset under ``<KERAS_HOME>/datasets``."""

    folders: tuple[str, ...]  # Keras 3's layout first, then Keras 2's (the legacy environment)
    files: tuple[str, ...]  # inside the folder: training data first, test data last
    example_shape: tuple[int, ...]
    classes: int
    sizes: tuple[int, int]  # training, test examples
    origin: str  # what to download where there is network

    def located(self, datasets: Path) -> Path | None:
        for folder in self.folders:
            if all((datasets / folder / name).is_file() for name in self.files):
                return datasets / folder
        return None


_CIFAR10_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
_FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
SOURCES = {
    "mnist": Source((".",), ("mnist.npz",), (28, 28, 1), 10, (60000, 10000), KERAS_URL + "mnist.npz"),
    "fashion_mnist": Source(("fashion-mnist",), _FASHION_FILES, (28, 28, 1), 10, (60000, 10000),
                            KERAS_URL + "<each file name>"),
    "cifar10": Source(("cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"), _CIFAR10_BATCHES,
                      (32, 32, 3), 10, (50000, 10000), "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "cifar100": Source(("cifar-100-python-target/cifar-100-python", "cifar-100-python"), ("train", "test"),
                       (32, 32, 3), 100, (50000, 10000), "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
}


def keras_datasets_folder() -> Path:
    """``<KERAS_HOME>/datasets`` as Keras resolves it (``~/.keras``, or ``/tmp/.keras`` when the home
    folder is not writable), without importing Keras."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home) / "datasets"


def check(options: dict, folder: Path) -> dict:
    """The cached copy must be there and hold the examples asked for (one line otherwise)."""
    source = SOURCES[options["id"]]
    if source.located(keras_datasets_folder()) is None:
        raise ValueError(_missing(options["id"]))
    for key, available in zip(("train_examples", "test_examples"), source.sizes):
        if options[key] > available:
            raise ValueError(f"{options['id']} has {available} {key.split('_')[0]} examples, "
                             f"{key}: {options[key]} asks for more")
    return options


def _missing(name: str) -> str:
    source, datasets = SOURCES[name], keras_datasets_folder()
    files = source.files[0] if len(source.files) == 1 else f"{source.files[0]} .. {source.files[-1]}"
    place = datasets if source.folders == (".",) else datasets / source.folders[0]
    return (f"no cached copy of {name} in {datasets} (normbench reads Keras's cache, never downloads): put "
            f"{files} in {place} (keras.datasets.{name}.load_data() writes them on a machine with network; "
            f"source {source.origin}), or set KERAS_HOME to a folder whose datasets/ has them")


def load(id: str, train_examples: int = 0, test_examples: int = 0, input_scale: float = 1 / 255) -> Dataset:
    """Keras's split, the first ``train_examples`` / ``test_examples`` of each (0: all), pixels
    times ``input_scale`` (1/255 maps 8-bit pixels to [0, 1]), NHWC."""
    source = SOURCES[id]
    located = source.located(keras_datasets_folder())
    if located is None:
        raise ValueError(_missing(id))
    x_train, y_train, x_test, y_test = _READERS[id](located, source)
    scale = np.float32(input_scale)
    arrays = []
    for x, y, limit, expected in ((x_train, y_train, train_examples, source.sizes[0]),
                                  (x_test, y_test, test_examples, source.sizes[1])):
        try:
            x = np.asarray(x).reshape(-1, *_stored_shape(source))
        except ValueError:
            raise ValueError(f"{located}: images are not {source.example_shape}") from None
        if source.example_shape[-1] == 3:  # CIFAR stores channels first
            x = x.transpose(0, 2, 3, 1)
        y = np.asarray(y, dtype=np.int64).reshape(-1)
        if len(y) != len(x) or len(x) < (limit or 1):
            raise ValueError(f"{located}: {len(x)} examples and {len(y)} labels where {limit or expected} were expected")
        if y.min() < 0 or y.max() >= source.classes:
            raise ValueError(f"{located}: labels must lie in 0..{source.classes - 1}, found {y.min()}..{y.max()}")
        limit = limit or len(x)
        arrays += [x[:limit].astype(np.float32).reshape(limit, *source.example_shape) * scale,
                   y[:limit].astype(np.int32)]
    return Dataset(*arrays, classes=source.classes)


def train_size(options: dict) -> int:
    return options["train_examples"] or SOURCES[options["id"]].sizes[0]


def example_shape(options: dict) -> tuple[int, ...]:
    return SOURCES[options["id"]].example_shape


def _stored_shape(source: Source) -> tuple[int, ...]:
    height, width, channels = source.example_shape
    return (channels, height, width) if channels == 3 else (height, width)


def _read_mnist(folder: Path, source: Source):
    with np.load(folder / source.files[0], allow_pickle=False) as data:
        return tuple(data[name] for name in ("x_train", "y_train", "x_test", "y_test"))


def _read_fashion(folder: Path, source: Source):
    def idx(name: str, header: int) -> np.ndarray:
        with gzip.open(folder / name, "rb") as stream:
            return np.frombuffer(stream.read(), np.uint8, offset=header)

    y_train, x_train, y_test, x_test = (idx(name, 8 if "labels" in name else 16) for name in source.files)
    return x_train, y_train, x_test, y_test


def _read_cifar(folder: Path, source: Source):
    label = "labels" if source.classes == 10 else "fine_labels"
    batches = [_unpickle_arrays(folder / name) for name in source.files]
    x_train = np.concatenate([batch[b"data"] for batch in batches[:-1]])
    y_train = np.concatenate([np.asarray(batch[label.encode()]) for batch in batches[:-1]])
    return x_train, y_train, batches[-1][b"data"], batches[-1][label.encode()]


_READERS = {"mnist": _read_mnist, "fashion_mnist": _read_fashion, "cifar10": _read_cifar, "cifar100": _read_cifar}


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds numpy arrays, dicts, lists and bytes; refuses every other global (a tampered cache
    file cannot run code through a pickle)."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle_arrays(path: Path) -> dict:
    try:
        with open(path, "rb") as stream:
            batch = _ArraysOnly(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a CIFAR batch ({exc})") from None
    if not isinstance(batch, dict) or b"data" not in batch:
        raise ValueError(f"{path}: not a CIFAR batch (no data array)")
    return batch
