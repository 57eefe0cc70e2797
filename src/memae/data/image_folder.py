"""Reader for a folder of images with one sub-folder per class.

Two layouts are understood::

    root/<class_a>/*.png, root/<class_b>/*.jpg, ...   # classes, labels in sorted folder-name order
    root/normal/*.png, root/anomalous/*.png            # a pre-labelled anomaly set: normal=0, anomalous=1

Only the files directly inside each class folder are read; hidden files and files with other
extensions (README, .txt) are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from memae.data.image_data import ImageData
from memae.errors import ConfigError, DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
_MODES = {"grey": "L", "gray": "L", "l": "L", "rgb": "RGB"}
_ANOMALY_LAYOUT = ("normal", "anomalous")


def _list_images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )  # fmt: skip


def _read_image(path: Path, pil_mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """One image as (H, W) or (H, W, 3) uint8, converted to ``pil_mode`` and resized to (H, W) if given."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert(pil_mode)
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)  # PIL sizes are (W, H)
            return np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc}); remove or replace the file") from exc


def load_image_folder(
    root: str | os.PathLike[str],
    mode: str = "rgb",
    size: tuple[int, int] | None = None,
) -> ImageData:
    """Load every image under ``root/<class>/``.

    Parameters
    ----------
    root : path
        Folder with one sub-folder per class, or exactly ``normal/`` and ``anomalous/``.
    mode : {"rgb", "grey"}
        Convert every image to 3-channel RGB or 1-channel grey.
    size : (H, W), optional
        Resize every image (bilinear) to this size.  Without it all images must share one size.

    Returns
    -------
    ImageData
        images (N, C, H, W) uint8 in class-folder then file-name order; ``prelabelled_anomalies`` is
        True for the ``normal/`` + ``anomalous/`` layout.
    """
    root = Path(root)
    pil_mode = _MODES.get(str(mode).lower())
    if pil_mode is None:
        raise ConfigError(f"unknown image mode {mode!r}; use 'grey' or 'rgb'")
    if size is not None:
        if len(size) != 2 or any(int(s) != s or s < 1 for s in size):
            raise ConfigError(f"image size must be two positive integers (H, W), got {size!r}")
        size = (int(size[0]), int(size[1]))
    if not root.is_dir():
        raise DataError(f"{root}: image folder does not exist; point the data root at a folder of class sub-folders")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(
            f"{root}: no class sub-folders; put the images in one sub-folder per class (or normal/ and anomalous/)"
        )
    names = tuple(p.name for p in class_dirs)
    prelabelled = sorted(n.lower() for n in names) == sorted(_ANOMALY_LAYOUT)
    if prelabelled:  # fixed label order, whatever the sort order of the folder names
        by_lower = {p.name.lower(): p for p in class_dirs}
        class_dirs = [by_lower[n] for n in _ANOMALY_LAYOUT]
        names = _ANOMALY_LAYOUT

    files: list[Path] = []
    labels: list[int] = []
    for label, folder in enumerate(class_dirs):
        found = _list_images(folder)
        if not found:
            exts = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise DataError(f"{folder}: no images ({exts}) in this class folder; add some or remove it")
        files += found
        labels += [label] * len(found)

    arrays = [_read_image(p, pil_mode, size) for p in files]
    first = arrays[0].shape
    for path, arr in zip(files, arrays):
        if arr.shape != first:
            raise DataError(
                f"{path}: image is {arr.shape[1]}x{arr.shape[0]} but {files[0].name} is {first[1]}x{first[0]}; "
                "pass a size (H, W) to resize all images"
            )
    stacked = np.stack(arrays)
    images = stacked[:, None] if stacked.ndim == 3 else stacked.transpose(0, 3, 1, 2)
    return ImageData(np.ascontiguousarray(images), np.asarray(labels, dtype=np.int64), names, prelabelled)
