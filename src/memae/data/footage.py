"""Your own footage (``data.dataset: videos``): a folder of normal videos, an optional labelled ``test/`` folder.

Layout of the data root::

    my_normal_footage/
        cam1_monday.mp4          # any container PyAV reads (mp4, mkv, avi, mov, ...)
        cam2/000001.jpg ...      # or a folder of frames (jpg/png/tif/bmp), ordered by the number in the name
        test/                    # optional: held-out footage with labels, for ``memae evaluate``
            evening.mkv
            labels.csv

``test/labels.csv`` lists the anomalous spans, one row each, frames 0-based and inclusive (the ``frame`` column that
``memae score-video`` writes)::

    video,start_frame,end_frame
    evening,120,180

``video`` is a file stem or frame-folder name in ``test/`` (``evening`` or ``evening.mkv``); a test video with no
rows is normal throughout.  Videos may differ in resolution (every frame is resized to ``data.frame_size``) and in
frame rate: with ``fps`` (``data.fps``) every video file is resampled by its timestamps to that rate (frames dropped
or repeated, sample-and-hold), so that motion has one speed across cameras.  Frame folders have no timestamps and
are taken as they are.  Label frame numbers always refer to the source's own frames.

May import: :mod:`memae.data.video` (and the modules it gathers), errors, io and third-party libraries (see :mod:`memae.data`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.damage import _damage_report
from memae.data.frames import _short
from memae.data.video import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    FrameFolder,
    VideoBenchmark,
    VideoFile,
    VideoSource,
    has_frame_images,
    natural_key,
)
from memae.data.video_sources import _av_errors, _import_av
from memae.errors import DataError

__all__ = ["TEST_FOLDER", "LABELS_FILE", "LABEL_COLUMNS", "ResampledVideo", "resample_index", "frame_times",
           "list_footage", "read_span_labels", "load_footage"]

TEST_FOLDER = "test"
LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ("video", "start_frame", "end_frame")


# --------------------------------------------------------------------------------------------------------------
# Frame-rate resampling
# --------------------------------------------------------------------------------------------------------------


def resample_index(times: np.ndarray, fps: float, source_fps: float | None = None) -> np.ndarray:
    """Which source frame each output frame at ``fps`` shows: int64 ``(T_out,)``, sample-and-hold by timestamp.

    ``times``: the source frames' presentation times in seconds, in order.  Output frame ``k`` at time
    ``t0 + k / fps`` shows the last source frame that started at or before it; the last source frame lasts one frame
    interval (``1 / source_fps``, else the median gap).
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    t = t - t[0]
    gaps = np.diff(t)
    step = 1.0 / source_fps if source_fps else (float(np.median(gaps)) if gaps.size else 1.0 / fps)
    duration = t[-1] + step
    n_out = max(int(np.floor(duration * fps + 1e-6)), 1)
    tau = np.arange(n_out, dtype=np.float64) / fps
    return (np.searchsorted(t, tau + 1e-6, side="right") - 1).clip(0, t.size - 1).astype(np.int64)


def frame_times(video: VideoFile) -> np.ndarray:
    """Presentation times (seconds) of a video file's frames, in order, from its packets (demux only, no decoding).

    Packets without timestamps (some AVI files) fall back to ``index / fps``.
    """
    av = _import_av()
    with video._open() as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        try:
            stamps = [(p.pts, p.time_base) for p in container.demux(stream) if p.size]
        except _av_errors(av) as exc:
            raise DataError(f"{video.path}: cannot read this video file ({_short(exc)}); is it complete?") from exc
    if stamps and all(pts is not None and base is not None for pts, base in stamps):
        return np.sort(np.array([float(pts * base) for pts, base in stamps], dtype=np.float64))
    if not rate:
        raise DataError(f"{video.path}: the file gives neither timestamps nor a frame rate; leave data.fps unset "
                        "or convert it to a folder of frames")
    return np.arange(len(stamps), dtype=np.float64) / float(rate)


class ResampledVideo(VideoSource):
    """A video file shown at another frame rate: frames dropped or repeated by timestamp (:func:`resample_index`).

    ``source_index[k]`` is the source frame that output frame ``k`` shows.
    """

    def __init__(self, source: VideoFile, fps: float) -> None:
        self.source, self.fps = source, float(fps)
        self.name, self.path = source.name, source.path
        self._index: np.ndarray | None = None

    @property
    def source_index(self) -> np.ndarray:
        if self._index is None:
            source_fps = float(self.source.fps) if self.source.fps else None
            self._index = resample_index(frame_times(self.source), self.fps, source_fps)
        return self._index

    @property
    def num_frames(self) -> int:
        return int(self.source_index.size)

    def iter_frames(self) -> Iterator[np.ndarray]:
        index, k = self.source_index, 0
        for i, frame in enumerate(self.source.iter_frames()):
            while k < index.size and index[k] == i:
                yield frame
                k += 1
            if k >= index.size:
                break

    def iter_indexed_frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """Lenient decoding of the source (:meth:`VideoFile.iter_indexed_frames`), at this rate: an output frame whose
        source frame was lost is skipped, so it shows as a gap in :attr:`damage`, in output frame numbers."""
        index, k, yielded = self.source_index, 0, []
        self.damage = None
        for i, frame in self.source.iter_indexed_frames():
            while k < index.size and index[k] < i:  # their source frame never arrived
                k += 1
            while k < index.size and index[k] == i:
                yielded.append(k)
                yield k, frame
                k += 1
        lost = self.source.damage
        if lost is not None:
            source_fps = float(self.source.fps) if self.source.fps else self.fps
            expected = max(index.size, int(round(lost.expected * self.fps / source_fps)))
            self.damage = _damage_report(self.source.path.name, yielded, expected, lost.decode_errors, lost.note)

    def fingerprint(self) -> dict[str, Any]:
        return {**self.source.fingerprint(), "fps": self.fps}


def _at_rate(source: VideoSource, fps: float | None) -> VideoSource:
    """``source`` resampled to ``fps`` if it is a video file at another rate; otherwise ``source`` itself."""
    if fps is None or not isinstance(source, VideoFile):
        return source
    if source.fps and abs(float(source.fps) - fps) < 1e-3:
        return source
    return ResampledVideo(source, fps)


# --------------------------------------------------------------------------------------------------------------
# Folders and labels
# --------------------------------------------------------------------------------------------------------------


def list_footage(folder: Path, skip: tuple[str, ...] = ()) -> list[VideoSource]:
    """The video files and frame folders directly in ``folder`` (hidden entries and ``skip`` names left out)."""
    sources: list[VideoSource] = []
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith(".") or entry.name in skip:
            continue
        if entry.is_dir() and has_frame_images(entry):
            sources.append(FrameFolder(entry))
        elif entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES:
            sources.append(VideoFile(entry))  # an unreadable file is a one-line DataError naming it
    return sources


def read_span_labels(path: Path, names: list[str], lengths: list[int]) -> list[np.ndarray]:
    """bool ``(T_i,)`` frame labels per video from a ``video,start_frame,end_frame`` CSV of anomalous spans.

    ``names`` and ``lengths`` are the test videos' names and source frame counts; frames are 0-based, inclusive.
    """
    labels = [np.zeros(n, dtype=bool) for n in lengths]
    where = {name: i for i, name in enumerate(names)}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            if tuple(header) != LABEL_COLUMNS:
                raise DataError(f"{path}: the header must be {','.join(LABEL_COLUMNS)}, got {','.join(header) or 'none'}")
            for line, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                if len(row) != 3:
                    raise DataError(f"{path} line {line}: expected 3 values (video,start_frame,end_frame), got {len(row)}")
                video = row[0].strip()
                key = video if video in where else Path(video).stem
                if key not in where:
                    raise DataError(f"{path} line {line}: video {video!r} is not in {path.parent} "
                                    f"(videos there: {', '.join(names) or 'none'})")
                try:
                    start, end = int(row[1]), int(row[2])
                except ValueError:
                    raise DataError(f"{path} line {line}: start_frame and end_frame must be whole frame numbers, "
                                    f"got {row[1].strip()!r}, {row[2].strip()!r}") from None
                n = lengths[where[key]]
                if start < 0 or end < start:
                    raise DataError(f"{path} line {line}: span {start}-{end} of {key} is not a span of frames "
                                    "(0-based, start_frame <= end_frame)")
                if end >= n:
                    raise DataError(f"{path} line {line}: span {start}-{end} runs past the end of {key}, which has "
                                    f"{n} frames (0-{n - 1})")
                labels[where[key]][start : end + 1] = True
    except OSError as exc:
        raise DataError(f"{path}: cannot read the labels file ({exc.strerror})") from exc
    return labels


def _check_length(source: VideoSource, min_frames: int) -> int:
    n = source.count_frames()
    if n < min_frames:
        rate = f" at {source.fps:g} fps" if isinstance(source, ResampledVideo) else ""
        raise DataError(f"{source.path or source.name}: {n} frames{rate}, shorter than one clip of {min_frames}; "
                        "use longer footage or a smaller data.clip_len")
    return n


def load_footage(root: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None,
                 fps: float | None = None, min_frames: int = 1) -> VideoBenchmark:
    """Read a folder of normal footage (module docstring) as a :class:`VideoBenchmark` named ``videos``.

    Parameters
    ----------
    root : path
        The folder; its ``test/`` sub-folder, if any, holds the labelled test videos.
    labels : path, optional
        The span CSV of the test videos (default ``root/test/labels.csv``).
    fps : float, optional
        Resample every video file to this frame rate.
    min_frames : int
        Every video must have at least this many frames (after resampling): one clip.

    Raises
    ------
    DataError
        No readable video in ``root``; a video shorter than ``min_frames``; a test folder without labels, or labels
        naming a video that is not there or frames past its end.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found; point --data-root at the folder of your normal footage")
    train = [_at_rate(s, fps) for s in list_footage(root, skip=(TEST_FOLDER,))]
    if not train:
        raise DataError(f"{root}: no readable video here (video files {', '.join(sorted(VIDEO_SUFFIXES))} or folders "
                        f"of {'/'.join(sorted(s.lstrip('.') for s in IMAGE_SUFFIXES))} frames)")
    for source in train:
        _check_length(source, min_frames)
    test_dir = root / TEST_FOLDER
    test: list[VideoSource] = []
    test_labels: list[np.ndarray] = []
    label_source = "none (no test folder)"
    if test_dir.is_dir() or labels is not None:
        gt = Path(labels) if labels is not None else test_dir / LABELS_FILE
        if not test_dir.is_dir():
            raise DataError(f"{test_dir}: folder not found; the labels {gt} describe the videos in it")
        originals = list_footage(test_dir)
        if not originals:
            raise DataError(f"{test_dir}: no readable video in the test folder; add videos or remove the folder")
        if not gt.is_file():
            raise DataError(f"{gt}: labels file not found; write {','.join(LABEL_COLUMNS)} rows of anomalous spans "
                            "(the header alone: every test video is normal)")
        spans = read_span_labels(gt, [s.name for s in originals], [s.count_frames() for s in originals])
        for source, span in zip(originals, spans):
            shown = _at_rate(source, fps)
            _check_length(shown, min_frames)
            test.append(shown)
            test_labels.append(span[shown.source_index] if isinstance(shown, ResampledVideo) else span)
        label_source = gt.name
    return VideoBenchmark(name="videos", root=root, train=train, test=test, test_labels=test_labels,
                          label_source=label_source, extra={"fps": fps, "labels": label_source})
