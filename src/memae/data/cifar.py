"""Reader for CIFAR-10 "python version" batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``).

The batches are pickles written by Python 2.  Unpickling can run arbitrary code, so they are read with
:class:`RestrictedUnpickler`, which only lets through the few globals a numpy array and plain
containers need; any other global (``os.system``, ``builtins.eval``, ...) raises :class:`DataError`
before it is called.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.image_data import ImageData, check_split
from memae.errors import DataError

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
TRAIN_BATCHES: tuple[str, ...] = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES: tuple[str, ...] = ("test_batch",)
_SUBDIR = "cifar-10-batches-py"
_HAS_NUMPY_CORE_PRIVATE = importlib.util.find_spec("numpy._core") is not None

# (module, name) pairs that rebuilding numpy arrays, numpy scalars and bytes can need.  Py2 pickles
# of str read with encoding="bytes", and py3 protocol-2 pickles of bytes, go through _codecs.encode.
_ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),  # protocol-5 pickles of arrays
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("builtins", "bytes"),
        ("builtins", "bytearray"),
        ("__builtin__", "bytearray"),  # Python 2 name of builtins
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in :data:`_ALLOWED_GLOBALS`; anything else is refused."""

    source = "<pickle>"

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise DataError(
                f"{self.source}: refused to unpickle global {module}.{name} (only numpy arrays and plain "
                "containers are allowed); this is not a genuine CIFAR-10 batch, do not use it"
            )
        if module.startswith("numpy.core.") and _HAS_NUMPY_CORE_PRIVATE:
            # numpy >= 2 renamed numpy.core to numpy._core and warns on the old name; old pickles use it.
            try:
                return super().find_class("numpy._core." + module[len("numpy.core.") :], name)
            except (ImportError, AttributeError):
                pass
        return super().find_class(module, name)


def restricted_load(data: bytes, source: str = "<pickle>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``encoding="bytes"`` for Python 2 pickles)."""
    unpickler = RestrictedUnpickler(io.BytesIO(data), encoding="bytes")
    unpickler.source = source
    try:
        return unpickler.load()
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a malformed pickle is a data problem
        raise DataError(f"{source}: not a readable CIFAR-10 pickle ({type(exc).__name__}: {exc})") from exc


def _get(batch: dict, key: str, source: str) -> Any:
    for k in (key.encode(), key):  # encoding="bytes" gives bytes keys; a py3-written batch may have str keys
        if k in batch:
            return batch[k]
    raise DataError(f"{source}: CIFAR-10 batch has no {key!r} entry (keys: {sorted(map(str, batch))})")


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch file.

    Returns
    -------
    images : np.ndarray
        (N, 3, 32, 32) uint8 (the stored rows are 1024 red, 1024 green, 1024 blue values, row-major).
    labels : np.ndarray
        (N,) int64 in 0..9.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read CIFAR-10 batch ({exc.strerror or exc})") from exc
    batch = restricted_load(raw, str(path))
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a pickled dict (a CIFAR-10 batch), found {type(batch).__name__}")
    data = np.asarray(_get(batch, "data", str(path)))
    labels = np.asarray(_get(batch, "labels", str(path)))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: 'data' must be uint8 of shape (N, 3072), found {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise DataError(
            f"{path}: 'labels' must be {data.shape[0]} integers, found {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path}: labels must be 0..9, found {int(labels.min())}..{int(labels.max())}")
    return data.reshape(-1, 3, 32, 32).copy(), labels.astype(np.int64)


def _batch_dir(root: Path) -> Path:
    for d in (root / _SUBDIR, root):
        if (d / TEST_BATCHES[0]).is_file() or (d / TRAIN_BATCHES[0]).is_file():
            return d
    raise DataError(
        f"{root}: expected CIFAR-10 python batches (data_batch_1..5, test_batch) in {root / _SUBDIR} or {root}; "
        "extract cifar-10-python.tar.gz there"
    )


def _class_names(folder: Path) -> tuple[str, ...]:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return CIFAR10_CLASSES  # the meta file only holds these names; its absence loses nothing
    obj = restricted_load(meta.read_bytes(), str(meta))
    names = _get(obj, "label_names", str(meta)) if isinstance(obj, dict) else None
    if not isinstance(names, list) or len(names) != 10:
        raise DataError(f"{meta}: expected 'label_names' with 10 names, found {names!r:.80}")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def load_cifar10(root: str | os.PathLike[str], split: str = "train") -> ImageData:
    """Load CIFAR-10 from the official python batches.

    Parameters
    ----------
    root : path
        Folder containing ``cifar-10-batches-py/`` or the batch files themselves.
    split : {"train", "test", "all"}
        train = ``data_batch_1..5`` (50000 images), test = ``test_batch`` (10000), all = both.

    Returns
    -------
    ImageData
        images (N, 3, 32, 32) uint8, labels (N,) int64.
    """
    root = Path(root)
    check_split(split)
    if not root.is_dir():
        raise DataError(f"{root}: data folder does not exist; point the data root at the CIFAR-10 folder")
    folder = _batch_dir(root)
    names = {"train": TRAIN_BATCHES, "test": TEST_BATCHES, "all": TRAIN_BATCHES + TEST_BATCHES}[split]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(f"{folder}: missing CIFAR-10 batch file(s) {', '.join(missing)}; re-extract the archive")
    parts = [read_cifar_batch(folder / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ImageData(images, labels, _class_names(folder))
