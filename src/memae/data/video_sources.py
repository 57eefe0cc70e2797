"""Frame sources: a :class:`VideoSource` is a named sequence of grey ``uint8`` frames ``(H, W)``; video files
(:class:`VideoFile`, decoded with PyAV), folders of frame images (:class:`FrameFolder`) and arrays in memory
(:class:`ArrayVideo`).  :func:`open_video` picks one for a path, :func:`list_videos` lists a folder's."""

from __future__ import annotations

import heapq
import os
from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.avi_index import _avi_frame_index
from memae.data.damage import DamageReport, _damage_report
from memae.data.frames import IMAGE_SUFFIXES, _image_files, _short, has_frame_images, natural_key, read_image, to_grey
from memae.errors import DataError

__all__ = ["VIDEO_SUFFIXES", "VideoSource", "ArrayVideo", "FrameFolder", "VideoFile", "open_video", "list_videos"]

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
_LOST_STEP = 1.75  # nominal frame intervals: a longer step between frames means frames were lost
_REORDER_WINDOW = 4  # frames; deeper than the B-frame runs encoders write (FFmpeg's default is 2-3)
_AV_HINT = "pip install av (PyAV) to read video files, or convert the video to a folder of frames"


class VideoSource:
    """A sequence of grey ``uint8`` frames ``(H, W)`` with a name.

    Subclasses implement :meth:`iter_frames`, :meth:`count_frames` and :meth:`fingerprint`.

    Attributes
    ----------
    name : str
        Short name (file stem or folder name), used in messages and cache file names.
    path : Path or None
        Where the frames come from (None for in-memory arrays).
    """

    name: str
    path: Path | None = None

    @property
    def num_frames(self) -> int | None:
        """Number of frames if known without decoding (may be None for video files until decoded)."""
        return None

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield the frames in order as grey ``uint8`` arrays ``(H, W)``."""
        raise NotImplementedError

    def iter_indexed_frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index in the source, frame)``; indices skip frames the source has lost (see :attr:`damage`)."""
        return enumerate(self.iter_frames())

    #: After :meth:`iter_indexed_frames` has run to the end: what was lost, or None for an intact source.
    damage: DamageReport | None = None

    def count_frames(self) -> int:
        """Exact number of frames; cheap (no pixel decoding) for files and folders."""
        n = self.num_frames
        if n is None:
            n = sum(1 for _ in self.iter_frames())
        return n

    def fingerprint(self) -> dict[str, Any] | None:
        """What identifies the content for the frame cache (path, size, mtime); None means do not cache."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path) if self.path else self.name!r})"


class ArrayVideo(VideoSource):
    """Frames already in memory: ``(T, H, W)`` uint8 grey, or ``(T, H, W, 3)`` RGB converted to grey."""

    def __init__(self, frames: np.ndarray, name: str = "array") -> None:
        frames = np.asarray(frames)
        if frames.ndim not in (3, 4):
            raise DataError(f"{name}: expected frames of shape (T, H, W) or (T, H, W, 3), got {frames.shape}")
        self.frames = frames
        self.name = name

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def iter_frames(self) -> Iterator[np.ndarray]:
        for frame in self.frames:
            yield to_grey(frame, self.name)


class FrameFolder(VideoSource):
    """A folder of image files (jpg/png/tif/bmp), one per frame, ordered by the number in the file name.

    Hidden files (``.DS_Store``, macOS ``._001.tif`` forks) and non-image files are ignored.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_dir():
            raise DataError(f"{self.path}: frame folder not found; point the data root at the dataset folder")
        self.files = sorted(_image_files(self.path), key=lambda p: natural_key(p.name))
        if not self.files:
            raise DataError(
                f"{self.path}: no frames ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder; "
                "point the data root at the dataset folder"
            )

    @property
    def num_frames(self) -> int:
        return len(self.files)

    def iter_frames(self) -> Iterator[np.ndarray]:
        for file in self.files:
            yield read_image(file)

    def fingerprint(self) -> dict[str, Any]:
        stats = [f.stat() for f in self.files]
        return {
            "path": str(self.path.resolve()),
            "n": len(self.files),
            "bytes": sum(s.st_size for s in stats),
            "mtime_ns": max(s.st_mtime_ns for s in stats),
        }


class VideoFile(VideoSource):
    """A video file decoded with PyAV (any container/codec FFmpeg reads: mp4, avi, mkv, ...).

    The first video stream is used. Frames are converted with ``to_ndarray(format="gray")`` (the luma plane
    for YUV input), which for the UCSD Ped2 lossless clips returns exactly the original pixels.
    """

    def __init__(self, path: str | os.PathLike[str], probe: bool = True) -> None:
        self.path = Path(path)
        self.name = self.path.stem
        self._decoded_frames: int | None = None
        self._meta_frames: int | None = None
        self.frame_size: tuple[int, int] | None = None
        self.fps: Fraction | None = None  # the stream's average frame rate, if the container gives one
        if not self.path.is_file():
            raise DataError(f"{self.path}: video file not found; check the path or point the data root at it")
        if probe:
            self._probe()

    def _open(self) -> Any:
        av = _import_av()
        try:
            container = av.open(str(self.path))
        except _av_errors(av) as exc:
            raise DataError(f"{self.path}: cannot read this video file ({_short(exc)}); is it a valid video?") from exc
        if not container.streams.video:
            container.close()
            raise DataError(f"{self.path}: the file has no video stream; expected a video such as .mp4/.avi/.mkv")
        return container

    def _probe(self) -> None:
        with self._open() as container:
            stream = container.streams.video[0]
            self._meta_frames = int(stream.frames) if stream.frames else None
            rate = stream.average_rate or stream.guessed_rate
            self.fps = Fraction(rate) if rate else None
            if stream.codec_context.height and stream.codec_context.width:
                self.frame_size = (int(stream.codec_context.height), int(stream.codec_context.width))

    @property
    def num_frames(self) -> int | None:
        """Frames counted by a full decode if one happened, else the container's count (None if it has none)."""
        return self._decoded_frames if self._decoded_frames is not None else self._meta_frames

    def count_frames(self) -> int:
        """Exact frame count: from a previous decode, else by counting packets (demux only, no decoding)."""
        if self._decoded_frames is not None:
            return self._decoded_frames
        av = _import_av()
        with self._open() as container:
            stream = container.streams.video[0]
            try:
                # The final "flush" packet has size 0; every other packet of a video stream holds one frame.
                n = sum(1 for packet in container.demux(stream) if packet.size)
            except _av_errors(av) as exc:
                raise DataError(f"{self.path}: cannot read this video file ({_short(exc)}); is it complete?") from exc
        return n

    def iter_frames(self) -> Iterator[np.ndarray]:
        av = _import_av()
        n = 0
        with self._open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame-threaded decoding; frames still come out in order
            try:
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="gray")
                    n += 1
            except _av_errors(av) as exc:
                raise DataError(f"{self.path}: decoding failed after {n} frames ({_short(exc)})") from exc
        self._decoded_frames = n

    def iter_indexed_frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """Decode leniently, yielding ``(source frame index, grey frame)``; sets :attr:`damage` at the end.

        The index comes from each frame's timestamp, so frames after a damaged stretch keep their true numbers.
        Undecodable packets are skipped and a file that ends early stops the stream; both show up as gaps against
        the container's frame count (AVI, MP4) or duration (MKV, WebM).
        """
        av = _import_av()
        self.damage = None
        with self._open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else None
            # AVI packets carry no timestamps: the demuxer counts chunks, so after a damaged stretch every later
            # frame would take a wrong number.  The file's own index (idx1) says which chunk is which frame.
            avi_index = _avi_frame_index(self.path, stream.index) if self.path.suffix.lower() == ".avi" else None
            indices: list[int] = []
            decode_errors, note = 0, ""
            # Frames are numbered from the stream's own first timestamp (B-frame AVIs start at pts 1, MKVs may
            # start at any time), and timestamps may arrive out of order within a few frames (B-frames in decode
            # order): a small window hands out its timestamps sorted, while the pixels keep the decoder's order.
            origin: list[float] = []
            window: deque[np.ndarray] = deque()
            stamps: list[tuple[int, float]] = []  # heap of the window's (timestamp index, seconds)
            last = [-1]
            # Variable frame rate: timestamps jitter around the nominal grid, so a frame may round one slot late.
            # A step shorter than _LOST_STEP nominal intervals is the next frame, not a lost one (a CFR stream that
            # loses a frame steps 2 intervals); `jitter` records that such a step was seen.
            last_seconds: list[float | None] = [None]
            jitter = [False]

            def stamp(frame: Any) -> tuple[int, float]:
                if frame.pts is None or fps is None or frame.time_base is None:
                    return max((i for i, _ in stamps), default=last[0]) + 1, float("nan")
                seconds = float(frame.pts * frame.time_base)
                if not origin:
                    origin.append(seconds)
                return int(round((seconds - origin[0]) * fps)), seconds

            def release() -> tuple[int, np.ndarray]:
                index, seconds = heapq.heappop(stamps)
                previous = last_seconds[0]
                if index > last[0] + 1 and previous is not None and (seconds - previous) * fps < _LOST_STEP:
                    index, jitter[0] = last[0] + 1, True
                index = max(index, last[0] + 1)  # a repeated timestamp takes the next number
                last[0] = index
                last_seconds[0] = seconds if seconds == seconds else None
                indices.append(index)
                return index, window.popleft()

            try:
                for packet in container.demux(stream):
                    if avi_index is not None and packet.size and packet.pos in avi_index:
                        packet.pts = packet.dts = avi_index[packet.pos]  # decoded frames inherit it
                    try:
                        frames = packet.decode()
                    except _av_errors(av):
                        decode_errors += 1  # a damaged packet: skip it, the timestamps show the gap
                        continue
                    for frame in frames:
                        heapq.heappush(stamps, stamp(frame))
                        window.append(frame.to_ndarray(format="gray"))
                        if len(window) > _REORDER_WINDOW:
                            yield release()
            except _av_errors(av) as exc:
                note = f"reading stopped early ({_short(exc)})"
            while window:
                yield release()
            offset = int(round((origin[0] - float(stream.start_time * stream.time_base)) * fps)) \
                if origin and fps and stream.start_time is not None and stream.time_base else 0
            expected = self._expected_frames(container, stream, fps, offset)
            if jitter[0] and expected is not None and last_seconds[0] is not None and not stream.frames:
                # the announced end on the nominal grid, against the last frame's own grid slot (not its number,
                # which jitter shifted); one slot of slack for the last frame's own, variable, duration
                missing_end = expected - 1 - int(round((last_seconds[0] - origin[0]) * fps))
                expected = last[0] + 1 + (missing_end if missing_end > 1 else 0)
        self._decoded_frames = len(indices)
        self.damage = _damage_report(self.path.name, indices, expected, decode_errors, note)

    @staticmethod
    def _expected_frames(container: Any, stream: Any, fps: float | None, offset: int = 0) -> int | None:
        """The frame count the container announces: its frame count, else duration x frame rate.

        A duration may be measured from time 0 (Matroska) rather than from the first frame: ``offset`` frames
        before the first timestamp are not counted as lost.
        """
        if stream.frames:
            return int(stream.frames)
        if fps:
            if stream.duration and stream.time_base:
                return max(int(round(float(stream.duration * stream.time_base) * fps)) - max(offset, 0), 0)
            if container.duration:
                start = (container.start_time or 0) / 1_000_000
                # container.duration is in microseconds; counted from the first frame's time
                return max(int(round((container.duration / 1_000_000 - start) * fps)), 0) \
                    if start and container.duration / 1_000_000 > start else \
                    int(round(container.duration / 1_000_000 * fps))
        return None

    def fingerprint(self) -> dict[str, Any]:
        st = self.path.stat()
        return {"path": str(self.path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def open_video(path: str | os.PathLike[str]) -> VideoSource:
    """Open a video file (by suffix: mp4, avi, mkv, ...) or a folder of frame images.

    Raises
    ------
    DataError
        If the path does not exist, is not a video/folder of frames, or the video cannot be read.
    """
    p = Path(path)
    if p.is_dir():
        return FrameFolder(p)
    if not p.exists():
        raise DataError(f"{p}: no such video file or frame folder; check the path")
    if p.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFile(p)
    raise DataError(
        f"{p}: not a video file ({', '.join(sorted(VIDEO_SUFFIXES))}) or a folder of frames; "
        "pass a video or a folder of jpg/png/tif/bmp frames"
    )


def list_videos(folder: str | os.PathLike[str]) -> list[VideoSource]:
    """All videos in ``folder``: video files and sub-folders holding frames, ordered by the number in the name.

    Sub-folders ending in ``_gt`` (UCSD pixel masks) and hidden entries are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found; point the data root at the dataset folder")
    sources: list[VideoSource] = []
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith(".") or entry.name.lower().endswith("_gt"):
            continue
        if entry.is_dir() and has_frame_images(entry):
            sources.append(FrameFolder(entry))
        elif entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES:
            sources.append(VideoFile(entry))
    if not sources:
        raise DataError(f"{folder}: no videos (video files or folders of frames) in this folder")
    return sources


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise DataError(f"reading video files needs PyAV: {_AV_HINT}") from exc
    return av


def _av_errors(av: Any) -> tuple[type[BaseException], ...]:
    # av.error.FFmpegError exists in every PyAV >= 8; some subclasses also derive from OSError/ValueError.
    return (av.error.FFmpegError, OSError, ValueError)
