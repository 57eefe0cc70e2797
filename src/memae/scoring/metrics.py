"""Detection metrics from scikit-learn with one convention: label 1 = anomaly, higher score = more anomalous.

Every pipeline (the tables, ADBench, video, ``memae evaluate``) computes its metrics here and names them with one
vocabulary: ``roc_auc``, ``average_precision``, ``precision``, ``recall``, ``f1``, ``threshold``, ``eer`` and
``eer_threshold``; ``mean_roc_auc`` over a table's classes; per video ``mean_video_roc_auc`` and
``video_roc_aucs``; a suffix names a variant (``roc_auc_mae``: with the absolute error).  Files written before it
used other names; :func:`canonical_metrics` reads them (:data:`METRIC_ALIASES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn import metrics as skm

from ..errors import DataError
from .heatmaps import HEATMAP_SMOOTH, heatmap

__all__ = ["roc_auc", "average_precision", "equal_error_rate", "METRIC_ALIASES", "canonical_metrics",
           "top_fraction_threshold", "threshold_metrics", "detection_report",
           "pixel_roc_auc", "coverage_scores", "UCSD_COVERAGE", "PixelLocalisation"]


# Old name -> the vocabulary's, for result files written before it (metrics.json, results.csv, adbench.csv,
# summary.json); only code that reads stored results uses it.
METRIC_ALIASES = {
    "auc": "roc_auc",
    "ap": "average_precision",
    "auc_pr": "average_precision",
    "mean_auc": "mean_roc_auc",  # table1's summary.json
    "mean_video_auc": "mean_video_roc_auc",
    "video_aucs": "video_roc_aucs",
}


def canonical_metrics(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with old metric names (:data:`METRIC_ALIASES`, also with a ``_<variant>`` suffix such as
    ``auc_mae``) renamed to the vocabulary's; a key already in the vocabulary wins over its old name."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        new = METRIC_ALIASES.get(key)
        if new is None:
            base, sep, variant = key.rpartition("_")
            new = METRIC_ALIASES[base] + sep + variant if sep and base in METRIC_ALIASES else key
        if new == key or new not in record:
            out[new] = value
    return out


def _check(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise DataError(f"{labels.size} labels but {scores.size} scores; they must be aligned one to one")
    if not np.isfinite(scores).all():
        raise DataError(f"{int((~np.isfinite(scores)).sum())} scores are NaN or inf; the model diverged or the input has NaN")
    return labels, scores


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels, scores = _check(labels, scores)
    if labels.all() or not labels.any():
        return float("nan")
    return float(skm.roc_auc_score(labels, scores))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    labels, scores = _check(labels, scores)
    if not labels.any():
        return float("nan")
    return float(skm.average_precision_score(labels, scores))


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """EER from sklearn's ROC curve: the rate where FPR = FNR, interpolated between ROC points.

    Returns ``(eer, threshold)``; the threshold is that of the ROC point at or just past the crossing.
    """
    fpr, tpr, thr = skm.roc_curve(labels, scores)
    fnr = 1.0 - tpr
    diff = fnr - fpr  # starts at 1 (fpr=0, tpr=0) and decreases to -1, so it crosses zero once
    i = int(np.argmax(diff <= 0))
    if i == 0 or diff[i] == 0:
        return float(fpr[i]), float(thr[i])
    # Linear interpolation of both rates between points i-1 and i to where they are equal.
    a = diff[i - 1] / (diff[i - 1] - diff[i])
    eer = fpr[i - 1] + a * (fpr[i] - fpr[i - 1])
    return float(eer), float(thr[i])


def top_fraction_threshold(scores: np.ndarray, fraction: float) -> float:
    """The threshold above which the top ``fraction`` of ``scores`` lies (PyOD's contamination rule)."""
    if not 0 < fraction < 1:
        raise DataError(f"fraction must be in (0, 1), got {fraction}")
    return float(np.percentile(np.asarray(scores, dtype=np.float64), 100 * (1 - fraction)))


def threshold_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of the anomaly class when ``score > threshold`` is predicted anomalous."""
    labels, scores = _check(labels, scores)
    predicted = scores > threshold
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        labels, predicted, average="binary", pos_label=True, zero_division=0
    )
    return {"threshold": float(threshold), "precision": float(precision), "recall": float(recall), "f1": float(f1)}


def detection_report(labels: np.ndarray, scores: np.ndarray, threshold: float | None = None) -> dict[str, float]:
    """ROC-AUC, average precision and, with a threshold, precision/recall/F1."""
    report = {"roc_auc": roc_auc(labels, scores), "average_precision": average_precision(labels, scores)}
    if threshold is not None:
        report.update(threshold_metrics(labels, scores, threshold))
    return report


# ----------------------------------------------------------------------------------------------------------------
# Pixel-level localisation (video benchmarks with pixel masks: UCSD Ped1/Ped2, Avenue, ShanghaiTech)
# ----------------------------------------------------------------------------------------------------------------

FrameCallback = Callable[[int, Any, "np.ndarray | None", "float | None"], None]  # as video_stream's
UCSD_COVERAGE = 0.4  # Mahadevan et al. (CVPR 2010): a frame is localised when 40 % of its anomalous pixels are found


def pixel_roc_auc(maps: np.ndarray, masks: np.ndarray) -> float:
    """ROC-AUC of every pixel of ``maps`` (per-pixel errors, higher = more anomalous) against ``masks`` (True =
    anomalous pixel), pooled over all frames given; NaN when the pixels hold one class only.

    Shape: ``maps`` and ``masks`` ``(N, H, W)`` (or any equal shapes).  Exact (scikit-learn on every pixel): for
    small inputs; :class:`PixelLocalisation` streams whole benchmarks.
    """
    return roc_auc(masks, maps)


def coverage_scores(maps: np.ndarray, masks: np.ndarray, coverage: float = UCSD_COVERAGE) -> np.ndarray:
    """Per frame, the highest threshold at which the frame is detected by the UCSD pixel-level criterion.

    A frame with anomalous pixels counts as detected at threshold ``t`` when at least ``coverage`` of its mask
    pixels have error ``> t``, i.e. when ``t`` is below the ``ceil(coverage * n)``-th largest error inside the mask
    (returned); a frame with an empty mask gets its largest error (it is flagged when any pixel is above ``t``,
    which is how the criterion counts false positives on normal frames).

    Shape: ``maps`` float and ``masks`` bool ``(N, H, W)``; returns float64 ``(N,)``.
    """
    if not 0 < coverage <= 1:
        raise DataError(f"coverage must be in (0, 1], got {coverage}")
    maps, masks = np.asarray(maps), np.asarray(masks, dtype=bool)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise DataError(f"maps {maps.shape} and masks {masks.shape} must be equal stacks (N, H, W)")
    out = np.empty(len(maps))
    for i, (m, k) in enumerate(zip(maps, masks)):
        inside = m[k]
        if inside.size == 0:
            out[i] = float(m.max())
            continue
        need = max(int(np.ceil(coverage * inside.size - 1e-9)), 1)
        out[i] = float(np.partition(inside, inside.size - need)[inside.size - need])  # need-th largest
    return out


def _f16_bins(values: np.ndarray) -> np.ndarray:
    """uint16 bin of each value: its float16 bit pattern, which orders non-negative values as the values do."""
    v = np.asarray(values, dtype=np.float32)
    return np.where(v > 0, v, np.float32(0)).astype(np.float16).view(np.uint16)


def _histogram_auc(negative: np.ndarray, positive: np.ndarray) -> float:
    """ROC-AUC (scikit-learn, ties at half credit) of pixels given as counts per ordered score bin."""
    neg, pos = np.flatnonzero(negative), np.flatnonzero(positive)
    if not len(neg) or not len(pos):
        return float("nan")
    labels = np.r_[np.zeros(len(neg), dtype=bool), np.ones(len(pos), dtype=bool)]
    weights = np.r_[negative[neg], positive[pos]].astype(np.float64)
    return float(skm.roc_auc_score(labels, np.r_[neg, pos], sample_weight=weights))


class PixelLocalisation:
    """Pixel-level localisation metrics of a video model, accumulated frame by frame in bounded memory.

    Every scored frame's per-pixel error map ``(h, w)`` (model resolution: the error of the clip centred on the
    frame) is first made what ``memae score-video --heatmaps`` shows: Gaussian-smoothed (``smooth`` = sigma in
    model pixels) and bilinearly **upsampled to the mask resolution** ``(H, W)`` (the masks are never resampled).
    Two figures are computed from it, on raw errors pooled over all videos (no per-video normalisation):

    * ``pixel_auc``: pixel ROC-AUC over every pixel of every frame whose ground-truth frame label is anomalous,
      the error against the mask (``mean_video_pixel_auc``: the mean of the per-video values).  Pixels are kept
      as two histograms per video (normal / anomalous pixels) over the 65536 float16 values, so the AUC is
      scikit-learn's exact AUC of the errors rounded to float16 (10-bit mantissa: relative rounding error at most
      2^-11; pixels in one bin are ties, at half credit): 1 MB per video whatever its number of frames.
    * ``ucsd_pixel_auc`` and ``ucsd_pixel_eer``: the UCSD pixel-level criterion (Mahadevan et al., CVPR 2010;
      used by Li et al., TPAMI 2014), swept over one threshold ``t`` on the pixel errors.  An anomalous frame is a
      true positive when at least ``coverage`` (40 %) of its mask pixels are above ``t``; a normal frame is a false
      positive when any of its pixels is (:func:`coverage_scores`).  The ROC of these frame detections gives the
      AUC and the equal error rate.  It is this simple frame-counting variant only: no region- or track-based
      criteria (RBDC/TBDC), and no requirement on the share of detected pixels that are truly anomalous (the
      "dual pixel" criterion).  Anomalous frames with empty masks are left out of it (``n_frames_without_mask``).

    Frames no clip is centred on (the first ``clip_len // 2`` and last few) have no map and are skipped
    (``n_unscored_frames``).

    Args:
        smooth: sigma of the Gaussian, in model pixels; 0 = none. Defaults to ``HEATMAP_SMOOTH`` (1.0).
        coverage: the criterion's share of mask pixels. Defaults to ``0.4``.

    Example:
        >>> loc = PixelLocalisation(smooth=0)
        >>> mask = np.zeros((2, 4, 4), dtype=bool); mask[1, :2] = True
        >>> on_frame = loc.video(mask, mask.any(axis=(1, 2)))
        >>> for t in range(2):
        ...     on_frame(t, None, mask[t].astype(np.float32), 1.0)
        >>> loc.result()["pixel_auc"]
        1.0
    """

    def __init__(self, smooth: float | None = None, coverage: float = UCSD_COVERAGE) -> None:
        if not 0 < coverage <= 1:
            raise DataError(f"coverage must be in (0, 1], got {coverage}")
        self.smooth = HEATMAP_SMOOTH if smooth is None else float(smooth)
        self.coverage = float(coverage)
        self._histograms: list[np.ndarray] = []  # per video int64 (2, 65536): normal, anomalous pixels
        self._criterion: list[tuple[float, bool]] = []  # per frame: coverage score, anomalous
        self.n_frames = self.n_pixel_frames = self.n_unscored = self.n_without_mask = 0
        self.resolution: tuple[int, int] | None = None

    def video(self, masks: np.ndarray, labels: np.ndarray) -> FrameCallback:
        """Start the next test video: its bool masks ``(T, H, W)`` and frame labels ``(T,)``; returns the
        ``on_frame(index, frame, error_map, clip_error)`` callback of
        :func:`memae.scoring.video_stream.score_video`, which calls :meth:`add` for each frame."""
        masks, labels = np.asarray(masks, dtype=bool), np.asarray(labels, dtype=bool).reshape(-1)
        if masks.ndim != 3 or masks.shape[0] != labels.size:
            raise DataError(f"{labels.size} frame labels but pixel masks of shape {masks.shape}; expected one "
                            "(H, W) mask per frame")
        self._histograms.append(np.zeros((2, 1 << 16), dtype=np.int64))

        def on_frame(index: int, frame: Any, error_map: np.ndarray | None, clip_error: float | None) -> None:
            if not 0 <= index < labels.size:
                raise DataError(f"frame {index} of a video with {labels.size} masks; the masks do not match the video")
            self.add(error_map, masks[index], bool(labels[index]))

        return on_frame

    def add(self, error_map: np.ndarray | None, mask: np.ndarray, anomalous: bool) -> None:
        """One frame of the current video (see :meth:`video`): its error map ``(h, w)`` or None (unscored)."""
        if not self._histograms:
            raise DataError("call video() before add(): the pixels are counted per video")
        if error_map is None:
            self.n_unscored += 1
            return
        mask = np.asarray(mask, dtype=bool)
        emap = heatmap(error_map, mask.shape, self.smooth)  # float32 (H, W) at the mask's resolution
        if not np.isfinite(emap).all():
            raise DataError("the error map holds NaN or inf; the model diverged or the input has NaN")
        self.resolution = mask.shape
        self.n_frames += 1
        if anomalous:
            self.n_pixel_frames += 1
            bins = _f16_bins(emap)
            hist = self._histograms[-1]
            hist[1] += np.bincount(bins[mask], minlength=1 << 16)
            hist[0] += np.bincount(bins[~mask], minlength=1 << 16)
            if not mask.any():
                self.n_without_mask += 1
                return
        self._criterion.append((float(coverage_scores(emap[None], mask[None], self.coverage)[0]), bool(anomalous)))

    def result(self) -> dict[str, Any]:
        """``pixel_auc``, ``mean_video_pixel_auc``, ``video_pixel_aucs``, ``ucsd_pixel_auc``, ``ucsd_pixel_eer``
        (NaN where a class is missing) and the counts behind them."""
        if not self._histograms:
            raise DataError("no videos were given to the pixel metrics")
        pooled = np.sum(self._histograms, axis=0)
        per_video = [_histogram_auc(h[0], h[1]) for h in self._histograms]
        valid = [a for a in per_video if a == a]
        scores = np.array([s for s, _ in self._criterion])
        labels = np.array([y for _, y in self._criterion], dtype=bool)
        two_classes = 0 < labels.sum() < labels.size
        return {
            "pixel_auc": _histogram_auc(pooled[0], pooled[1]),
            "mean_video_pixel_auc": float(np.mean(valid)) if valid else float("nan"),
            "video_pixel_aucs": per_video,
            "ucsd_pixel_auc": roc_auc(labels, scores) if two_classes else float("nan"),
            "ucsd_pixel_eer": equal_error_rate(labels, scores)[0] if two_classes else float("nan"),
            "pixel_frames": self.n_pixel_frames,
            "pixel_resolution": list(self.resolution) if self.resolution else None,
            "n_scored_frames": self.n_frames,
            "n_unscored_frames": self.n_unscored,
            "n_frames_without_mask": self.n_without_mask,
            "pixel_smooth": self.smooth,
            "ucsd_coverage": self.coverage,
        }
