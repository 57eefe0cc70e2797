"""One grey frame: conversion to grey ``uint8`` ``(H, W)``, resizing, reading an image file, and the names and
order of frame files in a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memae.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "RESAMPLE_MODES", "natural_key", "read_image", "to_grey", "resize_frame",
           "has_frame_images"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})
RESAMPLE_MODES = ("bilinear", "area")
_NUMBER = re.compile(r"\d+")


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders names by the last number in them (``frame9`` before ``frame10``), then by name."""
    stem = Path(name).stem
    numbers = _NUMBER.findall(stem)
    return (0, int(numbers[-1]), name) if numbers else (1, 0, name)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one image file as a grey uint8 array ``(H, W)`` (Pillow ``convert("L")``)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{path}: cannot read this image ({_short(exc)}); is it a valid jpg/png/tif/bmp?") from exc


def to_grey(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """Return ``frame`` as a grey uint8 ``(H, W)`` array (RGB/RGBA converted with Pillow's ITU-R 601 luma)."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        from PIL import Image

        return np.asarray(Image.fromarray(np.ascontiguousarray(frame[..., :3]).astype(np.uint8)).convert("L"))
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim != 2:
        raise DataError(f"{name}: expected a grey (H, W) or colour (H, W, 3) frame, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        if np.issubdtype(frame.dtype, np.floating) or frame.min() < 0 or frame.max() > 255:
            raise DataError(f"{name}: expected uint8 frames (0-255), got {frame.dtype}; convert them to uint8 first")
        frame = frame.astype(np.uint8)
    return frame


def resize_frame(frame: np.ndarray, size: tuple[int, int] | None, resample: str = "bilinear") -> np.ndarray:
    """Resize a grey uint8 frame to ``size = (h, w)`` with Pillow (``"bilinear"`` or ``"area"`` = box filter)."""
    if size is None or tuple(frame.shape) == tuple(size):
        return frame
    from PIL import Image

    filters = {"bilinear": Image.Resampling.BILINEAR, "area": Image.Resampling.BOX}
    h, w = size
    return np.asarray(Image.fromarray(frame).resize((int(w), int(h)), filters[resample]))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _image_files(folder: Path) -> list[Path]:
    return [
        p for p in folder.iterdir()
        if not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    ]


def has_frame_images(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return any(
            not e.name.startswith(".") and Path(e.name).suffix.lower() in IMAGE_SUFFIXES and e.is_file() for e in it
        )


def _check_size(size: Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError) as exc:
        raise DataError(f"size must be (height, width), got {size!r}") from exc
    if h < 1 or w < 1:
        raise DataError(f"size must be positive (height, width), got {size!r}")
    return (h, w)


def _check_resample(resample: str) -> None:
    if resample not in RESAMPLE_MODES:
        raise DataError(f"resample must be one of {', '.join(RESAMPLE_MODES)}, got {resample!r}")
