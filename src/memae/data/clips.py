"""Clips of consecutive frames: :class:`ClipDataset` serves overlapping clips ``(1, clip_len, h, w)`` in
``[-1, 1]`` for training and scoring; :func:`iter_clips` forms the same clips from a frame stream while holding at
most ``clip_len`` frames."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from memae.errors import DataError

__all__ = ["clip_to_tensor", "clip_starts", "ClipDataset", "iter_clips"]


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
