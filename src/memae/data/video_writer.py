"""Writing grey frames to a video file with PyAV (atomically)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from memae.data.frames import to_grey
from memae.data.video_sources import _import_av
from memae.errors import DataError
from memae.io import atomic_path

__all__ = ["write_video"]


def write_video(
    path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: int = 10, codec: str = "ffv1"
) -> Path:
    """Write grey uint8 frames ``(H, W)`` to a video file with PyAV (atomically: temp file, then rename).

    ``codec="ffv1"`` (default) is lossless grey in .mkv/.avi; ``"libx264"`` writes yuv420p (lossy) for .mp4.
    """
    av = _import_av()
    path = Path(path)
    formats = {".mkv": "matroska", ".mp4": "mp4", ".avi": "avi", ".mov": "mov", ".webm": "webm"}
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: cannot write this video type; use one of {', '.join(formats)}")
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format=fmt) as container:
        stream = None
        for frame in frames:
            frame = to_grey(frame, str(path))
            if stream is None:
                stream = container.add_stream(codec, rate=fps)
                stream.height, stream.width = frame.shape
                stream.pix_fmt = "gray" if codec in ("ffv1", "ffvhuff", "png", "rawvideo") else "yuv420p"
            vf = av.VideoFrame.from_ndarray(frame, format="gray")
            if stream.pix_fmt != "gray":
                vf = vf.reformat(format=stream.pix_fmt)
            for packet in stream.encode(vf):
                container.mux(packet)
        if stream is None:
            raise DataError(f"{path}: no frames to write")
        for packet in stream.encode():
            container.mux(packet)
    return path
