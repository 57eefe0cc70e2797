"""Detection metrics from scikit-learn with one convention: label 1 = anomaly, higher score = more anomalous."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from ..errors import DataError

__all__ = ["roc_auc", "average_precision", "top_fraction_threshold", "threshold_metrics", "detection_report"]


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
