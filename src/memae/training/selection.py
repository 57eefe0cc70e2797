"""Label-free model selection: which epoch to keep when no labels are allowed.

``separation(scores, share)`` is the standardised gap between the mean log score of the top ``share`` of the
scores and the mean log score of the rest.  A detector whose scores split into a small high group and a large low
group separates well; one that has learnt to rebuild the anomalies too (the collapse seen on KDDCUP99, where the
reconstruction loss keeps falling) has its high tail pulled back into the bulk, and the statistic drops.  It reads
only the unlabelled scores of the selection data.

>>> import numpy as np
>>> bulk = np.full(90, 1.0) + np.linspace(0, 0.1, 90)
>>> round(separation(np.r_[bulk, np.full(10, 10.0)], 0.1), 2) > round(separation(np.r_[bulk, np.full(10, 1.2)], 0.1), 2)
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["separation"]


def separation(scores: np.ndarray, share: float) -> float:
    """``(mean log s of the top share - mean log s of the rest) / std(log s)``; NaN when it is undefined.

    Args:
        scores: per-sample anomaly scores (higher = more anomalous), non-negative (reconstruction errors).
        share: the share of samples assumed anomalous, in (0, 1).
    """
    values = np.log(np.maximum(np.asarray(scores, dtype=np.float64).ravel(), 1e-30))
    n = len(values)
    top = int(round(share * n))
    if n < 2 or not 0 < top < n:
        return math.nan
    spread = values.std()
    if not spread > 0:
        return 0.0
    ordered = np.sort(values)
    return float((ordered[n - top:].mean() - ordered[: n - top].mean()) / spread)
