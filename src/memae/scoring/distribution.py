"""The distribution of a model's validation errors, stored in its checkpoint, and the out-of-distribution check.

Per-video min-max normalisation stretches any input to 0-1: a street scene scored by a Ped2 model, with 4-8x the
raw error of the worst Ped2 test frame, once gave an ordinary-looking regularity plot.  The validation errors of the
training normals (held out, never trained on) give the raw scale back:

* :func:`summarise_scores` reduces them to a few percentiles, small enough for the checkpoint's ``extra`` dict;
  :func:`store_score_distribution` writes them there once training has ended.
* the stored quantiles set the alarm threshold of ``memae score-video --events`` (:mod:`memae.scoring.events`);
* :func:`check_distribution` compares new scores with them: input whose *median* error is above the 99.9th
  validation percentile is flagged as unlike the training data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DISTRIBUTION_KEY", "PERCENTILES", "OOD_PERCENTILE", "summarise_scores", "store_score_distribution",
           "check_distribution", "DistributionCheck"]

#: Key of the summary in a checkpoint's ``extra`` dict.
DISTRIBUTION_KEY = "score_distribution"
PERCENTILES = (0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0)
OOD_PERCENTILE = 99.9
QUANTILE_STEPS = 1001  # stored quantiles 0, 0.001, ..., 1


def summarise_scores(scores: np.ndarray, error: str, what: str = "validation") -> dict[str, Any]:
    """Percentiles, mean and count of the finite ``scores`` (plain floats, for a ``weights_only`` checkpoint)."""
    values = np.asarray(scores, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"error": error, "what": what, "n": 0}
    return {
        "error": error, "what": what, "n": int(values.size), "mean": float(values.mean()),
        "std": float(values.std()),
        "percentiles": {f"{p:g}": float(np.percentile(values, p)) for p in PERCENTILES},
        # the whole distribution at 0.1 % steps, for alarm thresholds at any quantile (memae.scoring.events)
        "quantiles": [float(v) for v in np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_STEPS))],
    }


def store_score_distribution(checkpoint: str | os.PathLike[str], scores: np.ndarray, error: str,
                             what: str = "validation") -> dict[str, Any]:
    """Summarise ``scores`` and add them to ``checkpoint``'s ``extra`` dict (atomic rewrite); returns the summary.

    Call it after training, on the best weights' errors of held-out normal samples.
    """
    from ..training.checkpoint import update_checkpoint

    summary = summarise_scores(scores, error, what)
    update_checkpoint(checkpoint, **{DISTRIBUTION_KEY: summary})
    return summary


@dataclass
class DistributionCheck:
    """New scores against the stored validation distribution."""

    median: float
    reference: float  # the validation errors' OOD_PERCENTILE-th percentile
    validation_median: float
    out_of_distribution: bool

    @property
    def ratio(self) -> float:
        return self.median / self.reference if self.reference > 0 else float("inf")

    def warning(self, name: str) -> str:
        return (f"{name} looks unlike the training data: its median error {self.median:.4g} is {self.ratio:.1f}x the "
                f"{OOD_PERCENTILE:g}th percentile of the validation errors ({self.reference:.4g}; their median "
                f"{self.validation_median:.4g}); normalised scores only rank samples within this input")

    def summary(self) -> str:
        return (f"raw error: median {self.median:.4g} (validation: median {self.validation_median:.4g}, "
                f"{OOD_PERCENTILE:g}th percentile {self.reference:.4g})")


def check_distribution(scores: np.ndarray, distribution: dict[str, Any] | None,
                       error: str | None = None) -> DistributionCheck | None:
    """Compare ``scores`` with a stored distribution; None when there is none (older checkpoints), it was measured
    with another error than ``error``, or there are no finite scores."""
    if not isinstance(distribution, dict) or not distribution.get("percentiles"):
        return None
    if error is not None and distribution.get("error") not in (None, error):
        return None
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    percentiles = distribution["percentiles"]
    reference = float(percentiles[f"{OOD_PERCENTILE:g}"])
    median = float(np.median(values))
    return DistributionCheck(median, reference, float(percentiles["50"]), median > reference)
