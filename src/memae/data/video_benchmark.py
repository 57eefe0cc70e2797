"""The benchmark type: :class:`VideoBenchmark` (train and test sources plus per-frame test labels, pixel masks
where there are some) and the helpers the dataset modules build one with (labels from intervals, ``.mat`` files,
concatenated label vectors)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.frames import _short
from memae.data.video_sources import VideoSource
from memae.errors import DataError

__all__ = ["MaskLoader", "VideoBenchmark", "check_label_length", "attach_labels", "split_concatenated",
           "intervals_to_labels", "read_interval_mat", "find_first"]

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
