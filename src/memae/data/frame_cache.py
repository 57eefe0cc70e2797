"""Decoding a source once: its frames converted to grey and resized (:func:`load_frames`), kept with
``cache_dir`` as an ``.npy`` copy that later calls memory-map instead of decoding again (so training epochs never
decode)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.frames import _check_resample, _check_size, resize_frame, to_grey
from memae.data.video_sources import VideoFile, VideoSource, open_video
from memae.errors import DataError
from memae.io import atomic_path

__all__ = ["iter_frames", "load_frames", "load_videos", "cache_key"]

_CACHE_VERSION = 1


def iter_frames(
    source: VideoSource | str | os.PathLike[str], size: tuple[int, int] | None = None, resample: str = "bilinear"
) -> Iterator[np.ndarray]:
    """Stream grey uint8 frames ``(h, w)`` from a source (path or :class:`VideoSource`), resized on the fly."""
    src = source if isinstance(source, VideoSource) else open_video(source)
    size = _check_size(size)
    _check_resample(resample)
    for frame in src.iter_frames():
        yield resize_frame(to_grey(frame, src.name), size, resample)


def load_frames(
    source: VideoSource | str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    resample: str = "bilinear",
) -> np.ndarray:
    """Decode all frames of a video once, as grey uint8 ``(T, h, w)``, optionally through an on-disk cache.

    Parameters
    ----------
    source : VideoSource or path
        The video (file or frame folder).
    size : (h, w) or None
        Output frame size; None keeps the native size.
    cache_dir : path or None
        If given, the result is stored there as ``.npy`` keyed by the source path, ``size``, ``resample`` and
        the file size/mtime, and later calls return ``np.load(..., mmap_mode="r")`` of it without decoding.
        A changed source file gets a new key, so a stale cache is never used.
    resample : {"bilinear", "area"}
        Pillow filter used when resizing.

    Returns
    -------
    np.ndarray
        ``(T, h, w)`` uint8; a read-only memory map when it comes from the cache.
    """
    src = source if isinstance(source, VideoSource) else open_video(source)
    size = _check_size(size)
    _check_resample(resample)
    cache_file = _cache_file(src, size, resample, cache_dir)
    if cache_file is not None and cache_file.is_file():
        try:
            cached = np.load(cache_file, mmap_mode="r")
        except (OSError, ValueError):  # unreadable cache: fall through and rebuild it
            cached = None
        if cached is not None and cached.ndim == 3 and cached.dtype == np.uint8:
            if size is None or tuple(cached.shape[1:]) == size:
                if isinstance(src, VideoFile):
                    src._decoded_frames = int(cached.shape[0])
                return cached
    frames = list(iter_frames(src, size, resample))
    if not frames:
        raise DataError(f"{src.path or src.name}: the video has no frames")
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise DataError(f"{src.path or src.name}: frames differ in size {sorted(shapes)}; pass size=(h, w) to resize")
    video = np.stack(frames)
    del frames
    if cache_file is not None:
        with atomic_path(cache_file) as tmp, open(tmp, "wb") as fh:
            np.save(fh, video)  # a file handle, so np.save does not append ".npy" to the temp name
        return np.load(cache_file, mmap_mode="r")
    return video


def load_videos(
    sources: Sequence[VideoSource | str | os.PathLike[str]],
    size: tuple[int, int] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    resample: str = "bilinear",
    progress: bool = False,
) -> list[np.ndarray]:
    """:func:`load_frames` for several videos; ``progress=True`` shows a tqdm bar on stderr."""
    items: Iterable[Any] = sources
    from ..console import show_progress

    if show_progress(progress):
        from tqdm import tqdm

        items = tqdm(sources, desc="decoding videos", unit="video")
    return [load_frames(s, size=size, cache_dir=cache_dir, resample=resample) for s in items]


def cache_key(source: VideoSource, size: tuple[int, int] | None, resample: str = "bilinear") -> str | None:
    """Hex digest identifying (source content, size, resample) in the frame cache; None if not cacheable."""
    fp = source.fingerprint()
    if fp is None:
        return None
    key = {"v": _CACHE_VERSION, "source": fp, "size": list(size) if size else None, "resample": resample}
    return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _cache_file(
    src: VideoSource, size: tuple[int, int] | None, resample: str, cache_dir: str | os.PathLike[str] | None
) -> Path | None:
    if cache_dir is None:
        return None
    key = cache_key(src, size, resample)
    if key is None:
        return None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", src.name)[:40] or "video"
    dims = f"{size[0]}x{size[1]}" if size else "native"
    return Path(cache_dir) / f"{slug}_{dims}_{key[:16]}.npy"
