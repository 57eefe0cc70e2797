"""Video input: frame sources (video files, frame folders), a frame cache, clip datasets and streaming clips.

Everything here works on grey ``uint8`` frames of shape ``(H, W)``; a video is a ``(T, H, W)`` uint8 array.

* :func:`open_video` turns a path into a :class:`VideoSource` (:class:`VideoFile` decoded with PyAV, or
  :class:`FrameFolder` of jpg/png/tif/bmp images read with Pillow).
* :func:`load_frames` decodes a source once, converts to grey, resizes and, with ``cache_dir``, keeps an
  ``.npy`` copy that later calls memory-map instead of decoding again (so training epochs never decode).
* :class:`ClipDataset` serves overlapping clips ``(1, clip_len, h, w)`` in ``[-1, 1]`` for training/scoring;
  :func:`iter_clips` forms the same clips from a frame stream while holding at most ``clip_len`` frames.
* :class:`VideoBenchmark` describes a benchmark (UCSD Ped1/Ped2, CUHK Avenue,
  ShanghaiTech): train and test sources plus per-frame test labels; the dataset modules build them and
  :func:`memae.data.benchmarks.load_benchmark` picks one by name.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
from collections import deque
from fractions import Fraction
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from memae.errors import DataError
from memae.io import atomic_path

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})
RESAMPLE_MODES = ("bilinear", "area")
_CACHE_VERSION = 1
_LOST_STEP = 1.75  # nominal frame intervals: a longer step between frames means frames were lost
_REORDER_WINDOW = 4  # frames; deeper than the B-frame runs encoders write (FFmpeg's default is 2-3)
_NUMBER = re.compile(r"\d+")
_AV_HINT = "pip install av (PyAV) to read video files, or convert the video to a folder of frames"


# --------------------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------------------


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders names by the last number in them (``frame9`` before ``frame10``), then by name."""
    stem = Path(name).stem
    numbers = _NUMBER.findall(stem)
    return (0, int(numbers[-1]), name) if numbers else (1, 0, name)


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


@dataclass
class DamageReport:
    """Frames a video file promised (container frame count, duration and timestamps) but did not deliver.

    ``gaps`` holds ``(first, last)`` source frame indices (inclusive, 0-based) of each run of lost frames.
    """

    name: str
    expected: int
    decoded: int
    gaps: list[tuple[int, int]]
    decode_errors: int = 0
    note: str = ""

    @property
    def lost(self) -> int:
        return sum(b - a + 1 for a, b in self.gaps)

    def summary(self, limit: int = 5) -> str:
        """One line: ``cut.avi: 508 of 795 frames lost (frames 287-794: 508)``."""
        parts = [f"{a}-{b}: {b - a + 1}" if b > a else f"{a}: 1" for a, b in self.gaps[:limit]]
        more = f", and {len(self.gaps) - limit} more gaps" if len(self.gaps) > limit else ""
        extra = f"; {self.decode_errors} undecodable packet(s)" if self.decode_errors else ""
        note = f"; {self.note}" if self.note else ""
        return (f"{self.name} is damaged: {self.lost} of {self.expected} frames lost (frames {', '.join(parts)}{more})"
                f"{extra}{note}")


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


def _avi_frame_index(path: Path, stream_index: int) -> dict[int, int] | None:
    """``{file offset of a chunk's data: frame number}`` from an AVI file's ``idx1`` index, or None without a usable one.

    Walks the top-level RIFF chunks by their sizes (so damage inside ``movi`` does not matter), then reads the
    index entries of the video stream (``NNdc``/``NNdb``).  Offsets are relative to the ``movi`` list or absolute.
    """
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
                return None
            size = handle.seek(0, os.SEEK_END)
            pos, movi, idx1 = 12, None, None
            while pos + 8 <= size:
                handle.seek(pos)
                chunk_id, length = struct.unpack("<4sI", handle.read(8))
                if chunk_id == b"LIST" and handle.read(4) == b"movi":
                    movi = pos + 8
                elif chunk_id == b"idx1":
                    idx1 = (pos + 8, length)
                pos += 8 + length + (length & 1)
            if movi is None or idx1 is None:
                return None
            handle.seek(idx1[0])
            table = handle.read(idx1[1])
    except OSError:
        return None
    wanted = (f"{stream_index:02d}dc".encode(), f"{stream_index:02d}db".encode())
    offsets = [struct.unpack_from("<I", table, k + 8)[0] for k in range(0, len(table) - 15, 16)
               if table[k:k + 4] in wanted]
    if not offsets:
        return None
    base = movi if offsets[0] < movi else 0
    # an index entry points at the chunk header; FFmpeg's packet position is the chunk's data, 8 bytes further
    return {base + offset + 8: frame for frame, offset in enumerate(offsets)}


def _damage_report(name: str, indices: list[int], expected: int | None, decode_errors: int,
                   note: str) -> DamageReport | None:
    """Gaps between consecutive decoded indices, at the start and up to ``expected``; None if nothing is lost."""
    gaps: list[tuple[int, int]] = []
    last = -1
    for index in indices:
        if index > last + 1:
            gaps.append((last + 1, index - 1))
        last = index
    total = max(expected or 0, last + 1)
    if total > last + 1:
        gaps.append((last + 1, total - 1))
    if not gaps and not decode_errors and not note:
        return None
    return DamageReport(name, total, len(indices), gaps, decode_errors, note)


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


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one image file as a grey uint8 array ``(H, W)`` (Pillow ``convert("L")``)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{path}: cannot read this image ({_short(exc)}); is it a valid jpg/png/tif/bmp?") from exc


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


# --------------------------------------------------------------------------------------------------------------
# Frame conversion and the frame cache
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Clips
# --------------------------------------------------------------------------------------------------------------


def clip_to_tensor(clip: np.ndarray) -> torch.Tensor:
    """uint8 clip ``(L, h, w)`` -> float32 tensor ``(1, L, h, w)`` scaled to ``[-1, 1]`` (x / 127.5 - 1)."""
    x = torch.from_numpy(np.asarray(clip, dtype=np.float32))  # asarray copies uint8 (also read-only memmaps)
    return (x / 127.5 - 1.0).unsqueeze(0)


def clip_starts(num_frames: int, clip_len: int, stride: int = 1) -> np.ndarray:
    """Start frames of the clips of a ``num_frames`` video: ``0, stride, ...`` while a whole clip fits."""
    return np.arange(0, max(num_frames - clip_len + 1, 0), stride, dtype=np.int64)


class ClipDataset(Dataset):
    """Overlapping clips of ``clip_len`` frames from one or more videos.

    Parameters
    ----------
    videos : list of np.ndarray
        Grey uint8 videos ``(T_i, h, w)``, all with the same ``(h, w)`` (memory maps from
        :func:`load_frames` are fine: only the clip being served is read).
    clip_len, stride : int
        Clip length and step between clip starts.
    names : list of str, optional
        Video names used in error messages.

    ``dataset[i]`` is a float32 tensor ``(1, clip_len, h, w)`` in ``[-1, 1]``. ``index`` is an int64 array
    ``(n_clips, 2)`` of ``(video i, start frame t)`` for each item, in order (video by video); ``video_ids``
    and ``starts`` are its columns and ``clips_per_video`` counts clips per video.
    """

    def __init__(
        self, videos: Sequence[np.ndarray], clip_len: int = 16, stride: int = 1, names: Sequence[str] | None = None
    ) -> None:
        if clip_len < 1 or stride < 1:
            raise DataError(f"clip_len and stride must be >= 1, got clip_len={clip_len}, stride={stride}")
        if not videos:
            raise DataError("ClipDataset: no videos given")
        names = list(names) if names is not None else [f"video {i}" for i in range(len(videos))]
        if len(names) != len(videos):
            raise DataError(f"ClipDataset: {len(names)} names for {len(videos)} videos")
        self.videos = list(videos)
        self.names = names
        self.clip_len = int(clip_len)
        self.stride = int(stride)
        frame_shape = None
        rows = []
        for i, (video, name) in enumerate(zip(self.videos, names)):
            if video.ndim != 3 or video.dtype != np.uint8:
                raise DataError(f"{name}: expected a uint8 video (T, h, w), got {video.dtype} {video.shape}")
            if video.shape[0] < clip_len:
                raise DataError(
                    f"{name}: video has {video.shape[0]} frames, shorter than one clip of {clip_len}; "
                    "use a smaller clip_len or drop this video"
                )
            if frame_shape is None:
                frame_shape = video.shape[1:]
            elif video.shape[1:] != frame_shape:
                raise DataError(
                    f"{name}: frame size {video.shape[1:]} differs from {frame_shape} of {names[0]}; "
                    "load all videos with the same size=(h, w)"
                )
            starts = clip_starts(video.shape[0], clip_len, stride)
            rows.append(np.stack([np.full_like(starts, i), starts], axis=1))
        self.index = np.concatenate(rows).astype(np.int64)
        self.frame_shape: tuple[int, int] = tuple(frame_shape)  # type: ignore[arg-type]

    @property
    def video_ids(self) -> np.ndarray:
        return self.index[:, 0]

    @property
    def starts(self) -> np.ndarray:
        return self.index[:, 1]

    @property
    def clips_per_video(self) -> list[int]:
        return np.bincount(self.index[:, 0], minlength=len(self.videos)).tolist()

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> torch.Tensor:
        v, t = self.index[i]
        return clip_to_tensor(self.videos[v][t : t + self.clip_len])


def iter_clips(
    frames: Iterable[np.ndarray], clip_len: int = 16, stride: int = 1
) -> Iterator[tuple[int, np.ndarray]]:
    """Form clips from a stream of frames with a sliding buffer of at most ``clip_len`` frames.

    Yields ``(start_frame, clip)`` with ``clip`` a uint8 array ``(clip_len, h, w)``, for starts
    ``0, stride, 2*stride, ...`` -- the same clips, in the same order, as :class:`ClipDataset` of one video.
    Frames are pulled lazily, so memory stays bounded by ``clip_len`` frames whatever the video length.
    """
    if clip_len < 1 or stride < 1:
        raise DataError(f"clip_len and stride must be >= 1, got clip_len={clip_len}, stride={stride}")
    buffer: deque[np.ndarray] = deque(maxlen=clip_len)
    shape = None
    for t, frame in enumerate(frames):
        frame = np.array(frame, dtype=np.uint8, copy=True)  # own copy: a reader may reuse its output buffer
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise DataError(f"frame {t} has shape {frame.shape}, expected {shape}; resize frames to one size")
        buffer.append(frame)
        start = t - clip_len + 1
        if start >= 0 and start % stride == 0:
            yield start, np.stack(buffer)


# --------------------------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------------------------


MaskLoader = Callable[[], np.ndarray]


@dataclass
class VideoBenchmark:
    """A video anomaly-detection benchmark: normal training videos, test videos and per-frame labels.

    Attributes
    ----------
    name : str
        ``"ped1"``, ``"ped2"``, ``"avenue"`` or ``"shanghaitech"``.
    root : Path
        The data root it was read from.
    train, test : list of VideoSource
        Training (normal only) and test videos, in the benchmark's order.
    test_labels : list of np.ndarray
        bool ``(T_i,)`` per test video, True = anomalous frame; ``len == test[i].count_frames()``.
    label_source : str
        Which ground truth was used (file name and label set, e.g. ``"UCSDped2.m"``, ``"volLabel"``, ``"mnad"``).
    pixel_masks : list of (callable or None), optional
        Per test video, a function returning its bool pixel masks ``(T_i, H, W)`` (loaded on demand, they
        are large), or None where the benchmark has none.
    """

    name: str
    root: Path
    train: list[VideoSource]
    test: list[VideoSource]
    test_labels: list[np.ndarray]
    label_source: str
    pixel_masks: list[MaskLoader | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def test_names(self) -> list[str]:
        return [s.name for s in self.test]

    @property
    def num_test_frames(self) -> int:
        return int(sum(len(x) for x in self.test_labels))

    @property
    def num_anomalous(self) -> int:
        return int(sum(int(x.sum()) for x in self.test_labels))

    def load_pixel_mask(self, i: int) -> np.ndarray | None:
        """Bool pixel masks ``(T_i, H, W)`` of test video ``i``, or None if there are none."""
        if not self.pixel_masks or self.pixel_masks[i] is None:
            return None
        return self.pixel_masks[i]()  # type: ignore[misc]

    def check_num_frames(self, i: int, num_frames: int) -> None:
        """Raise DataError if test video ``i`` has ``num_frames`` frames but a different number of labels."""
        check_label_length(self.test[i], self.test_labels[i], num_frames, self.label_source)

    def summary(self) -> dict[str, Any]:
        """Counts for logs and reports."""
        return {
            "name": self.name,
            "root": str(self.root),
            "label_source": self.label_source,
            "train_videos": len(self.train),
            "test_videos": len(self.test),
            "test_frames": self.num_test_frames,
            "test_anomalous": self.num_anomalous,
        }


def check_label_length(source: VideoSource, labels: np.ndarray, num_frames: int, gt_name: str) -> None:
    """Raise DataError naming the video and the ground truth when label and frame counts differ."""
    if len(labels) != num_frames:
        raise DataError(
            f"{source.path or source.name}: {num_frames} frames but the ground truth ({gt_name}) has "
            f"{len(labels)} labels for it; check that the frames and ground truth belong together"
        )


def attach_labels(
    sources: Sequence[VideoSource], labels: Sequence[np.ndarray], gt_name: str
) -> list[np.ndarray]:
    """Check one label array per test video with one label per frame; return them as bool arrays."""
    if len(sources) != len(labels):
        where = sources[0].path.parent if sources and sources[0].path else "test set"
        raise DataError(
            f"{where}: {len(sources)} test videos but the ground truth ({gt_name}) describes {len(labels)}; "
            "check that the frames and ground truth belong together"
        )
    out = []
    for src, lab in zip(sources, labels):
        lab = np.asarray(lab).reshape(-1).astype(bool)
        check_label_length(src, lab, src.count_frames(), gt_name)
        out.append(lab)
    return out


def split_concatenated(labels: np.ndarray, lengths: Sequence[int], gt_name: str) -> list[np.ndarray]:
    """Split a concatenated frame-label array (MNAD style ``(1, N)`` or ``(N,)``) into per-video bool arrays."""
    flat = np.asarray(labels).reshape(-1)
    if flat.size != int(sum(lengths)):
        raise DataError(
            f"{gt_name}: {flat.size} frame labels but the test videos have {int(sum(lengths))} frames "
            f"({len(lengths)} videos); check that the frames and ground truth belong together"
        )
    cuts = np.cumsum(lengths)[:-1]
    return [part.astype(bool) for part in np.split(flat, cuts)]


def intervals_to_labels(intervals: np.ndarray, num_frames: int, where: str) -> np.ndarray:
    """bool ``(num_frames,)`` labels from 1-based inclusive ``[start, end]`` rows ``(k, 2)``.

    ``where`` names the ground truth (file and video) in the error raised for an out-of-range interval.
    """
    labels = np.zeros(num_frames, dtype=bool)
    for start, end in np.asarray(intervals, dtype=np.int64).reshape(-1, 2):
        if start < 1 or end < start or end > num_frames:
            raise DataError(
                f"{where}: anomalous interval [{start}:{end}] is outside the video's {num_frames} frames; "
                "check that the frames and ground truth belong together"
            )
        labels[start - 1 : end] = True
    return labels


def read_interval_mat(path: str | os.PathLike[str], key: str = "gt") -> list[np.ndarray]:
    """Read an ano_pred-style ``.mat`` ground truth: a ``gt`` cell of ``[start; end]`` (2, k) columns per video.

    Returns one int64 array ``(k, 2)`` of 1-based inclusive intervals per video.
    """
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, variable_names=[key])
    except (OSError, ValueError, NotImplementedError) as exc:
        raise DataError(f"{path}: cannot read this .mat file ({_short(exc)}); expected a MATLAB v5 file") from exc
    if key not in mat:
        raise DataError(f"{path}: no {key!r} variable; expected the ano_pred ground truth (a cell of [start; end])")
    out = []
    for cell in np.asarray(mat[key], dtype=object).reshape(-1):
        arr = np.asarray(cell, dtype=np.int64)
        if arr.size == 0:
            out.append(np.zeros((0, 2), dtype=np.int64))
            continue
        if arr.ndim != 2 or 2 not in arr.shape:
            raise DataError(f"{path}: expected [start; end] pairs in each {key} cell, got shape {arr.shape}")
        out.append(arr.T if arr.shape[0] == 2 else arr)  # (2, k) columns -> (k, 2) rows
    return out


def find_first(candidates: Iterable[Path]) -> Path | None:
    """The first existing path among ``candidates``."""
    for c in candidates:
        if c.exists():
            return c
    return None


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise DataError(f"reading video files needs PyAV: {_AV_HINT}") from exc
    return av


def _av_errors(av: Any) -> tuple[type[BaseException], ...]:
    # av.error.FFmpegError exists in every PyAV >= 8; some subclasses also derive from OSError/ValueError.
    return (av.error.FFmpegError, OSError, ValueError)


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
