"""Streaming frame scores of one video: decode once, clips from a sliding buffer, batched model calls.

Memory stays bounded whatever the video length: frames are pulled lazily from the decoder
(:func:`memae.data.video.iter_frames`), :func:`memae.data.video.iter_clips` keeps at most ``clip_len`` of them, and
at most ``batch_size`` clips wait for the model.  With an ``on_frame`` callback (for overlay writers) the scorer also
keeps the native-size frames that are not yet handed out: at most ``clip_len + batch_size * stride`` of them.

>>> # scores = score_video(model, "Test001.avi").scores   # (T,) per-frame errors, NaN where no clip is centred
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data.video import DamageReport, VideoSource, clip_to_tensor, iter_clips, open_video, resize_frame, to_grey
from ..config import SCORE_ERRORS
from ..errors import DataError
from ..functional import reconstruction_error
from .video import SCORE_MODES, check_one_of, frame_scores_from_clips

__all__ = ["VideoScores", "score_video", "model_clip_shape", "FrameCallback", "ERRORS"]

ERRORS = SCORE_ERRORS  # mse: the paper's squared error; mae: the authors' video code (mean absolute residual)

FrameCallback = Callable[[int, np.ndarray, "np.ndarray | None", "float | None"], None]
"""``on_frame(index, native_frame, error_map, clip_error)``: called once per frame, in order.

``native_frame`` is the decoded grey uint8 frame ``(H, W)``; ``error_map`` the per-pixel error ``(h, w)`` (float32,
model resolution) of the clip centred on this frame and ``clip_error`` that clip's score, both None for frames no
clip is centred on (the first ``clip_len // 2`` and last ``clip_len - clip_len // 2 - 1`` frames at stride 1).
"""


@dataclass
class VideoScores:
    """Result of :func:`score_video`.

    Attributes
    ----------
    scores : np.ndarray
        float64 ``(T,)`` per-frame anomaly score (reconstruction error; higher = more anomalous), NaN where no clip
        scores the frame.
    scored : np.ndarray
        bool ``(T,)``, True where a clip gave the frame its score.
    clip_errors : np.ndarray
        float64 ``(n_clips,)`` error of the clips starting at ``0, stride, 2 * stride, ...``.
    num_frames : int
        ``T``, frames decoded.
    clip_len, stride : int
        How the clips were formed.
    mode, error : str
        Frame score mode (``"center"`` / ``"mean"``) and error (``"mse"`` / ``"mae"``).
    frame_index : np.ndarray
        int64 ``(T,)`` index in the source of each decoded frame (``arange(T)`` for an intact video; with lost
        frames it skips them, so that decoded frame ``i`` is source frame ``frame_index[i]``).
    damage : DamageReport or None
        Frames the source lost (see :meth:`memae.data.video.VideoFile.iter_indexed_frames`), None if intact.
    """

    scores: np.ndarray
    scored: np.ndarray
    clip_errors: np.ndarray
    num_frames: int
    clip_len: int
    stride: int
    mode: str
    error: str
    frame_index: np.ndarray | None = None
    damage: DamageReport | None = None

    def __post_init__(self) -> None:
        if self.frame_index is None:
            self.frame_index = np.arange(self.num_frames, dtype=np.int64)


def model_clip_shape(model: nn.Module) -> tuple[int, tuple[int, int]]:
    """``(clip_len, (h, w))`` of a video model from its ``input_shape`` ``(1, L, h, w)``.

    Raises
    ------
    DataError
        If the model is not a one-channel 3D (video) model.
    """
    shape = getattr(model, "input_shape", None)
    if shape is None or len(shape) != 4:
        arch = getattr(model, "config", {}).get("architecture", "?")
        raise DataError(
            f"this model ({arch!r}, input shape {shape}) is not a video model; "
            "score videos with a checkpoint of the 'video' architecture"
        )
    if shape[0] != 1:
        raise DataError(f"the video model expects {shape[0]} channels; memae scores grey (1-channel) clips only")
    return int(shape[1]), (int(shape[2]), int(shape[3]))


@torch.no_grad()
def score_video(
    model: nn.Module,
    source: VideoSource | str | os.PathLike[str],
    frame_size: tuple[int, int] | None = None,
    clip_len: int | None = None,
    error: str = "mae",
    mode: str = "center",
    batch_size: int = 8,
    *,
    stride: int = 1,
    device: str | torch.device | None = None,
    resample: str = "bilinear",
    on_frame: FrameCallback | None = None,
    progress: bool = True,
) -> VideoScores:
    """Score every frame of a video with a trained video model, streaming.

    Parameters
    ----------
    model : nn.Module
        A :class:`memae.MemAE` video model; it is put in eval mode.
    source : VideoSource or path
        The video (file, frame folder or :class:`~memae.data.video.ArrayVideo`).
    frame_size, clip_len : optional
        ``(h, w)`` and clip length; default: the model's ``input_shape`` (they must match it).
    error : {"mae", "mse"}
        Per-clip score: mean absolute residual (authors' code) or mean squared residual (paper eq. 11).
    mode : {"center", "mean"}
        ``"center"``: a clip's score goes to its frame ``clip_len // 2`` (the 9th of 16, as the authors do);
        ``"mean"``: each frame gets the mean score of every clip containing it.
    batch_size : int
        Clips per model call.
    stride : int
        Step between clip starts (1 scores every frame in ``center`` mode).
    device : optional
        Where the model runs; default: where its parameters are.
    resample : {"bilinear", "area"}
        Pillow filter for resizing frames (use the one the model was trained with).
    on_frame : callable, optional
        See :data:`FrameCallback`; receives every frame with the error map of the clip centred on it.
    progress : bool
        Show a tqdm bar counting frames.

    Returns
    -------
    VideoScores

    Raises
    ------
    DataError
        Unknown ``error``/``mode``, a frame size or clip length that does not fit the model, or a video shorter
        than one clip.
    """
    check_one_of("error", error, ERRORS)
    check_one_of("mode", mode, SCORE_MODES)
    if batch_size < 1 or stride < 1:
        raise DataError(f"batch_size and stride must be >= 1, got batch_size={batch_size}, stride={stride}")
    model_len, model_size = model_clip_shape(model)
    clip_len = model_len if clip_len is None else int(clip_len)
    frame_size = model_size if frame_size is None else (int(frame_size[0]), int(frame_size[1]))
    if (clip_len, frame_size) != (model_len, model_size):
        raise DataError(
            f"clip_len={clip_len}, frame_size={frame_size} do not fit the model, which takes clips of {model_len} "
            f"frames of {model_size[0]}x{model_size[1]}; leave them unset to use the model's"
        )
    src = source if isinstance(source, VideoSource) else open_video(source)
    name = str(src.path or src.name)
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    model.eval().to(device)

    pending: deque[tuple[int, np.ndarray]] = deque()  # native frames not yet handed to on_frame
    counter = [0]
    source_index: list[int] = []  # the source's frame number of each decoded frame (skips lost frames)

    def resized_frames() -> Iterator[np.ndarray]:
        for index, native in src.iter_indexed_frames():
            native = to_grey(native, name)
            source_index.append(index)
            if on_frame is not None:
                pending.append((counter[0], native))
            counter[0] += 1
            bar.update(1)
            yield resize_frame(native, frame_size, resample)

    from tqdm.auto import tqdm

    from ..console import show_progress

    bar = tqdm(total=src.num_frames, desc=f"scoring {src.name}", unit="frame", leave=False,
               disable=not show_progress(progress))
    centre = clip_len // 2
    errors: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    starts: list[int] = []

    def run_batch() -> None:
        x = torch.stack([clip_to_tensor(c) for c in batch]).to(device)  # (B, 1, L, h, w) in [-1, 1]
        maps = reconstruction_error(model(x)[0].float(), x.float(), error, reduce=False)  # (B, 1, L, h, w)
        errors.append(maps.flatten(1).mean(1).double().cpu().numpy())
        if on_frame is not None:
            centre_maps = maps[:, 0, centre].cpu().numpy().astype(np.float32)  # (B, h, w)
            for start, emap, value in zip(starts, centre_maps, errors[-1]):
                _flush(pending, on_frame, source_index, until=start + centre)
                index, native = pending.popleft()
                on_frame(source_index[index], native, emap, float(value))
        batch.clear()
        starts.clear()

    try:
        for start, clip in iter_clips(resized_frames(), clip_len, stride):
            batch.append(clip)
            starts.append(start)
            if len(batch) == batch_size:
                run_batch()
        num_frames = counter[0]
        if num_frames < clip_len:
            damage = getattr(src, "damage", None)
            raise DataError(
                f"{name}: the video has {num_frames} frames, shorter than one clip of {clip_len}; "
                f"the model needs at least {clip_len} frames" + (f" ({damage.summary()})" if damage else "")
            )
        if batch:
            run_batch()
        if on_frame is not None:
            _flush(pending, on_frame, source_index, until=None)
    finally:
        bar.close()
    clip_errors = np.concatenate(errors) if errors else np.zeros(0)
    scores, scored = frame_scores_from_clips(clip_errors, num_frames, clip_len, stride, mode)
    frame_index = np.asarray(source_index, dtype=np.int64)
    if mode == "center" and stride == 1 and len(clip_errors):
        # a clip that spans lost frames is not the clip the model was trained on: its centre frame counts as unscored
        starts = np.arange(len(clip_errors))
        broken = frame_index[starts + clip_len - 1] - frame_index[starts] != clip_len - 1
        scores[starts[broken] + centre] = np.nan
        scored[starts[broken] + centre] = False
    return VideoScores(scores, scored, clip_errors, num_frames, clip_len, stride, mode, error, frame_index,
                       getattr(src, "damage", None))


def _flush(pending: deque, on_frame: FrameCallback, source_index: list[int], until: int | None) -> None:
    """Hand out the buffered frames before ``until`` (all if None) with no error map, by their source index."""
    while pending and (until is None or pending[0][0] < until):
        index, native = pending.popleft()
        on_frame(source_index[index], native, None, None)
