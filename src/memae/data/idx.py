"""Reader for IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is: two zero bytes, a type code, the number of dimensions ``d``, then ``d`` big-endian
uint32 sizes, then the values in row-major order, big-endian.  Files may be gzip-compressed; that is
detected from the gzip magic bytes, not from the file name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memae.data.image_data import ImageData, check_split
from memae.errors import DataError

#: IDX type code -> big-endian numpy dtype (the six types the format defines).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

MNIST_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


def _read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the file starts with the gzip magic bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc
        raise DataError(f"{path}: cannot read IDX file ({reason}); check the path and permissions") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip data ({exc}); re-download the file") from exc
    return raw


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes
        Whole file contents.
    source : str
        Name used in error messages.

    Returns
    -------
    np.ndarray
        Array of the file's shape in the native-endian version of its dtype (a writable copy).
    """
    if len(data) < 4:
        raise DataError(f"{source}: only {len(data)} bytes, too short for an IDX header; the file is truncated")
    magic = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{source}: not an IDX file (magic 0x{magic:08x}; expected 0x0000TTDD with type TT in "
            f"{{08,09,0B,0C,0D,0E}} and DD >= 1 dimensions); point the data root at the IDX files"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: header declares {ndim} dimensions but the file ends after {len(data)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"{source}: dimensions {dims} of {dtype.name} need {expected} data bytes, found {len(data) - header}; "
            "the file is truncated or corrupt"
        )
    values = np.frombuffer(data, dtype=dtype, count=int(np.prod(dims, dtype=np.int64)), offset=header)
    return values.reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a numpy array of the shape and type its header gives."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def _find(root: Path, prefix: str, kind: str, ndim: int) -> Path:
    """Locate e.g. ``train-images-idx3-ubyte[.gz]`` (also the ``train-images.idx3-ubyte`` spelling)."""
    stems = (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte")
    for stem in stems:
        for suffix in ("", ".gz"):
            candidate = root / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    raise DataError(
        f"{root}: expected {stems[0]} or {stems[0]}.gz there; point the data root at the folder holding "
        "the (Fashion-)MNIST IDX files"
    )


def load_idx_dataset(
    root: str | os.PathLike[str],
    split: str = "train",
    class_names: Sequence[str] | None = None,
) -> ImageData:
    """Load an MNIST-layout IDX image/label pair from ``root``.

    Parameters
    ----------
    root : path
        Folder with ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]`` (MNIST or Fashion-MNIST).
    split : {"train", "test", "all"}
        ``"all"`` concatenates train then test.
    class_names : sequence of str, optional
        Names for labels 0..K-1; default ``"0"``, ``"1"``, ... up to the largest label (at least 10).

    Returns
    -------
    ImageData
        images (N, 1, H, W) uint8, labels (N,) int64.
    """
    root = Path(root)
    check_split(split)
    if not root.is_dir():
        raise DataError(f"{root}: data folder does not exist; point the data root at the folder with the IDX files")
    if split == "all":
        parts = [_load_pair(root, "train"), _load_pair(root, "t10k")]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
    else:
        images, labels = _load_pair(root, "train" if split == "train" else "t10k")
    if class_names is None:
        class_names = tuple(str(i) for i in range(max(10, int(labels.max(initial=-1)) + 1)))
    elif labels.size and int(labels.max()) >= len(class_names):
        raise DataError(
            f"{root}: labels go up to {int(labels.max())} but only {len(class_names)} classes are expected; "
            "is this the right dataset name?"
        )
    return ImageData(images, labels, tuple(class_names))


def _load_pair(root: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    img_path, lab_path = _find(root, prefix, "images", 3), _find(root, prefix, "labels", 1)
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{img_path}: expected uint8 images of shape (N, H, W), found {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(f"{lab_path}: expected 1-D integer labels, found {labels.dtype} {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{lab_path}: {labels.shape[0]} labels for {images.shape[0]} images in {img_path.name}; "
            "the files do not belong together"
        )
    if labels.size and labels.min() < 0:
        raise DataError(f"{lab_path}: negative label {int(labels.min())}; labels must be 0..K-1")
    return images[:, None], labels.astype(np.int64)
