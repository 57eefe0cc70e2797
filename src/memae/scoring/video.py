"""Frame-level scores and metrics for video anomaly detection (numpy + scikit-learn only).

Pipeline: per-clip reconstruction errors -> :func:`frame_scores_from_clips` (one score per frame, NaN where
no clip scores a frame) -> :func:`evaluate_frames`, which min-max normalises each video (the regularity score
``p = 1 - (e - min e) / (max e - min e)`` of the paper) and reports pooled frame ROC-AUC over all scored frames
(anomaly score ``1 - p``), the mean of per-video AUCs, the equal error rate and average precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from memae.config import SCORE_MODES  # the names a config's score.mode may take, listed once
from memae.errors import DataError

from .heatmaps import HEATMAP_SMOOTH, heatmap, pixel_error_map  # noqa: F401  (their old home: re-exported)
from .metrics import average_precision, equal_error_rate, roc_auc  # equal_error_rate lived here: still importable

FILL_MODES = ("nan", "nearest")


def check_one_of(name: str, value: str, choices: Sequence[str]) -> None:
    """A :class:`DataError` ``"<name> must be one of a, b, got 'x'"`` unless ``value`` is in ``choices``."""
    if value not in choices:
        raise DataError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def num_clips(num_frames: int, clip_len: int = 16, stride: int = 1) -> int:
    """Number of clips ``0, stride, ...`` of ``clip_len`` frames that fit in ``num_frames``."""
    return len(range(0, max(num_frames - clip_len + 1, 0), stride))


def frame_scores_from_clips(
    clip_errors: np.ndarray,
    num_frames: int,
    clip_len: int = 16,
    stride: int = 1,
    mode: str = "center",
    fill: str = "nan",
) -> tuple[np.ndarray, np.ndarray]:
    """Turn per-clip errors of one video into per-frame scores.

    Parameters
    ----------
    clip_errors : np.ndarray
        ``(n_clips,)`` error of the clips starting at ``0, stride, 2*stride, ...`` (as :class:`ClipDataset`
        and :func:`iter_clips` produce them); ``n_clips`` must equal :func:`num_clips`.
    num_frames : int
        Frames in the video.
    clip_len, stride : int
        How the clips were formed.
    mode : {"center", "mean"}
        ``"center"``: the clip starting at ``s`` scores frame ``s + clip_len // 2`` only (frame index 8, the
        9th frame, of a 16-frame clip). ``"mean"``: each frame gets the mean error of all clips containing it.
    fill : {"nan", "nearest"}
        What unscored frames get: NaN (default; :func:`evaluate_frames` skips them) or the score of the
        nearest scored frame (earlier one on ties).

    Returns
    -------
    scores : np.ndarray
        float64 ``(num_frames,)``.
    scored : np.ndarray
        bool ``(num_frames,)``, True where a clip gave the frame its score (independent of ``fill``).
    """
    check_one_of("mode", mode, SCORE_MODES)
    check_one_of("fill", fill, FILL_MODES)
    if clip_len < 1 or stride < 1:
        raise DataError(f"clip_len and stride must be >= 1, got clip_len={clip_len}, stride={stride}")
    errors = np.asarray(clip_errors, dtype=np.float64).reshape(-1)
    expected = num_clips(num_frames, clip_len, stride)
    if errors.size != expected:
        raise DataError(
            f"got {errors.size} clip errors for a video of {num_frames} frames; clip_len={clip_len}, "
            f"stride={stride} give {expected} clips"
        )
    if not np.all(np.isfinite(errors)):
        raise DataError("clip errors contain NaN or inf; check the model's reconstructions")
    starts = np.arange(expected, dtype=np.int64) * stride
    scores = np.full(num_frames, np.nan)
    if mode == "center":
        scores[starts + clip_len // 2] = errors
        scored = ~np.isnan(scores)
    else:
        sums = np.zeros(num_frames)
        counts = np.zeros(num_frames)
        for k in range(clip_len):  # starts are distinct, so plain fancy-index += is exact
            sums[starts + k] += errors
            counts[starts + k] += 1
        scored = counts > 0
        scores[scored] = sums[scored] / counts[scored]
    if fill == "nearest" and scored.any() and not scored.all():
        scores = scores[_nearest_scored(scored)]
    return scores, scored


def _nearest_scored(scored: np.ndarray) -> np.ndarray:
    """For every frame, the index of the nearest frame where ``scored`` is True (the earlier one on ties)."""
    idx = np.flatnonzero(scored)
    if len(idx) == 1:
        return np.full(scored.size, idx[0])
    frames = np.arange(scored.size)
    pos = np.clip(np.searchsorted(idx, frames), 1, len(idx) - 1)
    left, right = idx[pos - 1], idx[pos]
    return np.where(frames - left <= right - frames, left, right)


def nearest_fill(values: np.ndarray) -> np.ndarray:
    """Unscored (NaN) frames take the value of the nearest scored frame (earlier one on ties), as
    ``frame_scores_from_clips(..., fill="nearest")`` does; all-NaN or all-scored input comes back as float64."""
    values = np.asarray(values, dtype=np.float64)
    scored = ~np.isnan(values)
    if not scored.any() or scored.all():
        return values
    return values[_nearest_scored(scored)]


def regularity(scores: np.ndarray) -> np.ndarray:
    """Regularity score of one video: ``p = 1 - (e - min e) / (max e - min e)`` (NaN frames stay NaN).

    A constant video (max == min) gets all ones rather than a division by zero.
    """
    e = np.asarray(scores, dtype=np.float64)
    finite = ~np.isnan(e)
    if np.isinf(e).any():
        raise DataError("scores contain inf; check the model's reconstructions")
    out = np.full(e.shape, np.nan)
    if not finite.any():
        return out
    lo, hi = e[finite].min(), e[finite].max()
    out[finite] = 1.0 if hi - lo <= 0 else 1.0 - (e[finite] - lo) / (hi - lo)
    return out


def evaluate_frames(
    per_video_scores: Sequence[np.ndarray],
    per_video_labels: Sequence[np.ndarray],
    normalize: bool = True,
) -> dict[str, Any]:
    """Frame-level metrics over test videos.

    Parameters
    ----------
    per_video_scores : list of np.ndarray
        Anomaly scores (higher = more anomalous, e.g. reconstruction error) ``(T_i,)``; NaN = not scored.
    per_video_labels : list of np.ndarray
        0/1 or bool ``(T_i,)``, 1 = anomalous frame.
    normalize : bool
        True (the paper): each video's scores become ``1 - regularity`` (per-video min-max) before pooling.
        False pools the raw scores.

    Returns
    -------
    dict
        ``roc_auc`` (pooled frame ROC-AUC), ``average_precision`` (anomalous = positive), ``eer`` and
        ``eer_threshold``, ``mean_video_roc_auc`` (mean over videos with both classes; NaN if none),
        ``video_roc_aucs`` (per video, NaN where skipped), ``n_videos_skipped`` (one-class videos),
        ``n_videos``, ``n_frames`` (scored frames), ``n_anomalous``, ``n_unscored`` and ``normalized``.
    """
    if len(per_video_scores) != len(per_video_labels):
        raise DataError(f"{len(per_video_scores)} videos of scores but {len(per_video_labels)} of labels")
    if not per_video_scores:
        raise DataError("no videos to evaluate")
    all_scores, all_labels, video_aucs = [], [], []
    n_unscored = 0
    for i, (s, y) in enumerate(zip(per_video_scores, per_video_labels)):
        s = np.asarray(s, dtype=np.float64).reshape(-1)
        y = np.asarray(y).reshape(-1)
        if s.shape != y.shape:
            raise DataError(f"video {i}: {s.size} scores but {y.size} labels; give one score per frame")
        if np.isinf(s).any():
            raise DataError(f"video {i}: scores contain inf; check the model's reconstructions")
        if not np.isin(y, (0, 1)).all():
            raise DataError(f"video {i}: labels must be 0/1 or bool, got values {np.unique(y)[:5].tolist()}")
        y = y.astype(bool)
        a = 1.0 - regularity(s) if normalize else s
        keep = ~np.isnan(a)
        n_unscored += int((~keep).sum())
        a, y = a[keep], y[keep]
        all_scores.append(a)
        all_labels.append(y)
        video_aucs.append(roc_auc(y, a))  # NaN for a one-class video
    scores = np.concatenate(all_scores)
    labels = np.concatenate(all_labels)
    if labels.size == 0 or labels.all() or not labels.any():
        raise DataError(
            f"the scored frames contain only one class ({int(labels.sum())} anomalous of {labels.size}); "
            "frame AUC needs both normal and anomalous frames"
        )
    eer, eer_thr = equal_error_rate(labels, scores)
    valid = [v for v in video_aucs if not np.isnan(v)]
    return {
        "roc_auc": roc_auc(labels, scores),
        "average_precision": average_precision(labels, scores),
        "eer": eer,
        "eer_threshold": eer_thr,
        "mean_video_roc_auc": float(np.mean(valid)) if valid else float("nan"),
        "video_roc_aucs": video_aucs,
        "n_videos": len(video_aucs),
        "n_videos_skipped": len(video_aucs) - len(valid),
        "n_frames": int(labels.size),
        "n_anomalous": int(labels.sum()),
        "n_unscored": n_unscored,
        "normalized": bool(normalize),
    }
