"""Live video: frames from standard input (``-``) or any URL PyAV opens (``rtsp://``, ``http://``, ``udp://``, ...).

A :class:`StreamSource` is read once, as the frames arrive: it has no frame count, no cache and no lost-frame report
(a stream announces no length to check against).  Piped input needs a container that streams (Matroska, MPEG-TS,
NUT, FLV); MP4 keeps its index at the end of the file and cannot be read from a pipe.

May import: :mod:`memae.data.video` (and the modules it gathers), errors, io and third-party libraries (see :mod:`memae.data`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from memae.data.frames import _short
from memae.data.locations import STDIN, is_stream
from memae.data.video_sources import VideoSource, _av_errors, _import_av
from memae.errors import DataError

__all__ = ["STDIN", "is_stream", "StreamSource"]


class StreamSource(VideoSource):
    """The first video stream of standard input or a URL, decoded with PyAV as it arrives.

    Opening reads the stream's header (so a wrong URL or input that is not video fails here, in one line);
    :meth:`iter_frames` can run once.  ``fps`` is the rate of the frames it yields: the stream's announced rate (or
    None), or the ``fps`` asked for, to which the stream is then resampled by its timestamps.
    """

    def __init__(self, location: str, fps: float | None = None) -> None:
        av = _import_av()
        self.name = "stdin" if location == STDIN else location
        self.location = location
        target: Any = sys.stdin.buffer if location == STDIN else location
        try:
            self._container = av.open(target, mode="r")
        except _av_errors(av) as exc:
            hint = ("pipe a streaming container (Matroska, MPEG-TS, NUT), not MP4" if location == STDIN
                    else "check the URL and that the stream is live")
            raise DataError(f"{self.name}: cannot open this stream ({_short(exc)}); {hint}") from exc
        if not self._container.streams.video:
            self._container.close()
            raise DataError(f"{self.name}: the stream has no video")
        stream = self._container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        self.source_fps: Fraction | None = Fraction(rate) if rate else None
        # resampled (sample-and-hold by timestamp, as memae.data.footage does for files) when another rate is asked for
        self.resample = fps is not None and (self.source_fps is None or abs(float(self.source_fps) - fps) > 1e-3)
        self.fps: Fraction | float | None = float(fps) if self.resample else self.source_fps
        self._used = False

    def iter_frames(self) -> Iterator[np.ndarray]:
        if self._used:
            raise DataError(f"{self.name}: a stream can be read once")
        self._used = True
        av = _import_av()
        n = 0
        frames = self._decoded()
        yield from (self._at_rate(frames) if self.resample else (grey for _, grey in frames))

    def _decoded(self) -> Iterator[tuple[float | None, np.ndarray]]:
        av = _import_av()
        n = 0
        with self._container as container:
            try:
                for frame in container.decode(video=0):
                    yield frame.time, frame.to_ndarray(format="gray")
                    n += 1
            except _av_errors(av) as exc:
                raise DataError(f"{self.name}: the stream broke off after {n} frames ({_short(exc)})") from exc

    def _at_rate(self, frames: Iterator[tuple[float | None, np.ndarray]]) -> Iterator[np.ndarray]:
        """Output frame ``k`` (time ``k / fps`` from the first frame) shows the last frame that started by then."""
        fps = float(self.fps)
        step = 1.0 / float(self.source_fps) if self.source_fps else 1.0 / fps
        origin, previous, last, k = None, None, 0.0, 0
        for i, (time, grey) in enumerate(frames):
            time = time if time is not None else i * step
            if origin is None:
                origin = time
            while previous is not None and origin + k / fps + 1e-6 < time:
                yield previous
                k += 1
            previous, last = grey, time
        while previous is not None and origin + k / fps + 1e-6 < last + step:
            yield previous
            k += 1
