"""The data of the video experiments: a config's ``data`` section to training/validation clips and test videos.

The sibling of :func:`memae.data.experiment.build_experiment_data` (images and tables) for the video datasets
(:data:`memae.data.benchmarks.VIDEO_DATASETS`): :func:`build_video_data` reads a benchmark (or a folder of the
user's own footage), decodes its frames once into a cache (``data.cache_dir``, default ``~/.cache/memae/frames``),
resizes them to ``data.frame_size`` and forms grey clips of ``data.clip_len`` frames in ``[-1, 1]``; the last
``data.val_fraction`` of every *training* video (at least one clip) is held out for best-epoch selection.  Test
labels are read only for the metrics and the figures.  :func:`read_test_videos` is its test part alone (what
``memae evaluate`` scores).

Like the rest of :mod:`memae.data`, the ``data`` section is read by its field names: no config import.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import Dataset, Subset

from ..errors import ConfigError, DataError
from .benchmarks import load_benchmark
from .splits import video_tail_split
from .video import ClipDataset, VideoBenchmark, load_videos

if TYPE_CHECKING:
    from ..config import DataSection

logger = logging.getLogger(__name__)

__all__ = ["VideoData", "build_video_data", "read_test_videos", "default_cache_dir"]


@dataclass
class VideoData:
    """Clips for training/validation and the cached, resized test videos with their frame labels."""

    benchmark: VideoBenchmark
    train: Dataset
    val: Dataset | None
    test_videos: list[np.ndarray]  # uint8 (T_i, h, w), usually read-only memory maps of the cache
    test_names: list[str]
    test_labels: list[np.ndarray]  # bool (T_i,)
    info: dict[str, Any]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memae" / "frames"


def _test_part(bench: VideoBenchmark, d: DataSection) -> tuple[list[Any], list[np.ndarray]]:
    """The test videos a config uses (``data.max_test_videos``) and their frame labels."""
    sources = bench.test[: d.max_test_videos or None]
    return sources, bench.test_labels[: len(sources)]


def _size_and_cache(d: DataSection) -> tuple[tuple[int, int], Path]:
    size = (int(d.frame_size[0]), int(d.frame_size[1]))
    return size, (Path(d.cache_dir).expanduser() if d.cache_dir else default_cache_dir())


def read_test_videos(d: DataSection, *, progress: bool = True,
                     log: Callable[[str], None] | None = None) -> VideoData:
    """Only the test part of :func:`build_video_data` (the same videos, frames and labels): what ``memae evaluate``
    reads to score a trained video model.  ``train`` is an empty list and ``val`` None.  ``progress``: decoding
    bars; ``log``: where progress lines go (a run's log); default: this module's logger."""
    log = log or logger.info
    if not d.root:
        raise ConfigError(f"no data root for {d.dataset}: pass --data-root DIR (the folder holding the {d.dataset} videos)")
    bench = load_benchmark(d.dataset, d.root, d.labels, fps=d.fps, min_frames=d.clip_len)
    test_sources, test_labels = _test_part(bench, d)
    if not test_sources:
        raise DataError(f"{d.root}: no test videos to evaluate; put held-out footage in {Path(d.root) / 'test'} with "
                        "a labels.csv of its anomalous spans (video,start_frame,end_frame)")
    size, cache = _size_and_cache(d)
    log(f"decoding {len(test_sources)} test videos at {size[0]}x{size[1]} (cache {cache})")
    test_videos = load_videos(test_sources, size, cache, d.resample, progress=progress)
    for i, video in enumerate(test_videos):
        bench.check_num_frames(i, video.shape[0])
    info = {**bench.summary(), "test_videos_used": len(test_sources),
            "test_frames_used": int(sum(len(y) for y in test_labels)),
            "test_anomalous_used": int(sum(int(y.sum()) for y in test_labels)),
            "frame_size": list(size), "cache_dir": str(cache)}
    return VideoData(bench, [], None, list(test_videos), [s.name for s in test_sources],  # type: ignore[arg-type]
                     [np.asarray(y, dtype=bool) for y in test_labels], info)


def build_video_data(d: DataSection, *, progress: bool = True,
                     log: Callable[[str], None] | None = None) -> VideoData:
    """Read the benchmark of a config's ``data`` section, decode (or load from the cache) and resize its frames,
    form the clip datasets.

    ``progress``: decoding bars (``train.progress``); ``log``: where progress lines go (a run's log); default: this
    module's logger."""
    log = log or logger.info
    if not d.root:
        raise ConfigError(f"no data root for {d.dataset}: pass --data-root DIR (the folder holding the {d.dataset} videos)")
    bench = load_benchmark(d.dataset, d.root, d.labels, fps=d.fps, min_frames=d.clip_len)
    train_sources = bench.train[: d.max_train_videos or None]
    test_sources, test_labels = _test_part(bench, d)
    size, cache = _size_and_cache(d)
    log(f"decoding {len(train_sources)} training and {len(test_sources)} test videos at {size[0]}x{size[1]} "
        f"(cache {cache})")
    train_videos = load_videos(train_sources, size, cache, d.resample, progress=progress)
    test_videos = load_videos(test_sources, size, cache, d.resample, progress=progress)
    for i, video in enumerate(test_videos):
        bench.check_num_frames(i, video.shape[0])

    parts, val_parts, train_names, val_names = [], [], [], []
    for src, video in zip(train_sources, train_videos):
        if video.shape[0] < d.clip_len:
            log(f"skipping training video {src.name}: {video.shape[0]} frames, shorter than a clip of {d.clip_len}")
            continue
        train_frames, val_frames = video_tail_split(video.shape[0], d.clip_len, d.val_fraction)
        parts.append(video[train_frames])
        train_names.append(src.name)
        if val_frames is not None:
            val_parts.append(video[val_frames])
            val_names.append(src.name)
    if not parts:
        raise DataError(f"{d.root}: no training video has {d.clip_len} frames; check the dataset or data.clip_len")
    train_set: Dataset = ClipDataset(parts, d.clip_len, d.train_stride, train_names)
    n_all = len(train_set)
    if d.max_train_clips and n_all > d.max_train_clips:
        keep = np.unique(np.linspace(0, n_all - 1, d.max_train_clips).round().astype(np.int64))
        train_set = Subset(train_set, keep.tolist())
    val_set = ClipDataset(val_parts, d.clip_len, d.val_stride, val_names) if val_parts else None
    info = {
        **bench.summary(),
        "train_videos_used": len(parts), "test_videos_used": len(test_sources),
        "train_clips": len(train_set), "train_clips_before_subsampling": n_all,
        "val_clips": len(val_set) if val_set is not None else 0,
        "test_frames_used": int(sum(len(y) for y in test_labels)),
        "test_anomalous_used": int(sum(int(y.sum()) for y in test_labels)),
        "frame_size": list(size), "cache_dir": str(cache),
    }
    log(f"{info['train_clips']} training clips ({n_all} before sub-sampling), {info['val_clips']} validation clips, "
        f"{info['test_frames_used']} test frames ({info['test_anomalous_used']} anomalous, labels {bench.label_source})")
    if val_set is None:
        log(f"warning: no validation clips (every training video is shorter than two clips of {d.clip_len} frames, or "
            "data.val_fraction is 0): the last epoch is kept and score-video has no calibrated alarm threshold")
    return VideoData(bench, train_set, val_set, list(test_videos), [s.name for s in test_sources],
                     [np.asarray(y, dtype=bool) for y in test_labels], info)
