"""The base class of :class:`memae.MemAEDetector`: PyOD's own ``BaseDetector`` when PyOD is installed, else a
stand-in with the same public API and semantics.

Why reuse PyOD's class rather than re-write it: ``isinstance(det, pyod.models.base.BaseDetector)`` is what PyOD's
meta-detectors check (``EmbeddingOD``, combination and model-selection tools), and inheriting keeps every
method (``predict_confidence``, the rejection option, thresholder objects, ...) exactly as the installed PyOD
computes it, including future fixes.  PyOD is an optional extra (``pip install memae[pyod]``), so without it
:class:`BaseDetector` below provides the same public methods; ``tests/test_detector_pyod.py`` checks that both
give identical outputs.  The stand-in follows PyOD 2.x/3.x ``pyod/models/base.py`` (BSD 2-Clause, Yue Zhao),
vectorised instead of ``np.vectorize``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.optimize import root_scalar
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import BaseEstimator
from sklearn.metrics import precision_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted

__all__ = ["BaseDetector", "DetectorBase", "HAVE_PYOD", "is_thresholder"]

_FITTED = ["decision_scores_", "threshold_", "labels_"]


def is_thresholder(contamination: Any) -> bool:
    """Whether ``contamination`` is a PyThresh-style object (``fit(scores)`` then ``labels_``/``thresh_``,
    ``predict(scores)``) rather than a share of outliers."""
    return not isinstance(contamination, (float, int, np.floating, np.integer))


class BaseDetector(BaseEstimator):
    """PyOD's ``BaseDetector`` API for when PyOD is not installed (see the module docstring).

    A subclass implements ``fit`` (setting ``decision_scores_`` and calling :meth:`_process_decision_scores`) and
    ``decision_function`` (higher = more anomalous); everything else here derives from those two.
    """

    contamination: Any

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "outlier_detector"  # what sklearn.base.is_outlier_detector reads; PyOD does the same
        return tags

    def _process_decision_scores(self) -> BaseDetector:
        scores = self.decision_scores_
        if not is_thresholder(self.contamination):
            self.threshold_ = np.percentile(scores, 100 * (1 - self.contamination))
            self.labels_ = (scores > self.threshold_).astype("int").ravel()
        else:
            self.contamination.fit(scores)
            self.labels_ = self.contamination.labels_
            self.threshold_ = self.contamination.thresh_
            if not self.threshold_:  # PyOD's convention for thresholders without a score threshold
                self.threshold_ = np.sum(self.labels_) / len(self.labels_)
        self._mu = np.mean(scores)
        self._sigma = np.std(scores)
        return self

    def _labels_of(self, scores: np.ndarray) -> np.ndarray:
        if not is_thresholder(self.contamination):
            return (scores > self.threshold_).astype("int").ravel()
        return self.contamination.predict(scores)

    def predict(self, X: Any, return_confidence: bool = False) -> Any:
        """0 (inlier) / 1 (outlier) per row; with ``return_confidence``, also :meth:`predict_confidence`."""
        check_is_fitted(self, _FITTED)
        prediction = self._labels_of(self.decision_function(X))
        if return_confidence:
            return prediction, self.predict_confidence(X)
        return prediction

    def predict_proba(self, X: Any, method: str = "linear", return_confidence: bool = False) -> Any:
        """Outlier probability, shape (n_samples, 2): ``"linear"`` min-max scales the score with the training
        scores' range, ``"unify"`` is ``erf((s - mean) / (std sqrt 2))``; both clipped to [0, 1]."""
        check_is_fitted(self, _FITTED)
        train_scores = self.decision_scores_
        test_scores = self.decision_function(X)
        probs = np.zeros([len(test_scores), int(getattr(self, "_classes", 2))])
        if method == "linear":
            low, high = np.min(train_scores), np.max(train_scores)
            span = high - low
            probs[:, 1] = ((test_scores - low) / (span if span != 0 else 1.0)).clip(0, 1)  # MinMaxScaler's guard
        elif method == "unify":
            probs[:, 1] = erf((test_scores - self._mu) / (self._sigma * np.sqrt(2))).clip(0, 1).ravel()
        else:
            raise ValueError(method, "is not a valid probability conversion method")
        probs[:, 0] = 1 - probs[:, 1]
        if return_confidence:
            return probs, self.predict_confidence(X)
        return probs

    def predict_confidence(self, X: Any) -> np.ndarray:
        """How consistently each row would get the same label under a perturbed training set (Perini et al.,
        ECML-PKDD 2020), in [0, 1], shape (n_samples,)."""
        check_is_fitted(self, _FITTED)
        n = len(self.decision_scores_)
        test_scores = self.decision_function(X)
        n_instances = np.searchsorted(np.sort(self.decision_scores_), test_scores, side="right")  # count of <=
        posterior_prob = (1 + n_instances) / (2 + n)
        contam = np.sum(self.labels_) / n if is_thresholder(self.contamination) else self.contamination
        confidence = 1 - binom.cdf(n - int(n * contam), n, posterior_prob)
        prediction = self._labels_of(test_scores)
        np.place(confidence, prediction == 0, 1 - confidence[prediction == 0])
        return confidence

    def predict_with_rejection(
        self, X: Any, T: int = 32, return_stats: bool = False, delta: float = 0.1,
        c_fp: float = 1, c_fn: float = 1, c_r: float = -1,
    ) -> Any:
        """Like :meth:`predict`, but -2 for rows whose confidence is at most ``1 - 2 exp(-T)`` (Perini et al.,
        AAAI 2023); with ``return_stats``, also ``[expected rejection rate, its upper bound, cost upper bound]``."""
        check_is_fitted(self, _FITTED)
        if c_r < 0:
            warnings.warn("The cost of rejection must be positive. It has been set to the contamination rate.")
            c_r = self.contamination
        if delta <= 0 or delta >= 1:
            warnings.warn("delta must belong to (0,1). It's value has been set to 0.1")
            delta = 0.1
        self.rejection_threshold_ = 1 - 2 * np.exp(-T)
        prediction = self.predict(X)
        confidence = self.predict_confidence(X)
        np.place(confidence, prediction == 0, 1 - confidence[prediction == 0])
        confidence = 2 * abs(confidence - 0.5)
        prediction[np.where(confidence <= self.rejection_threshold_)[0]] = -2
        if return_stats:
            return prediction, list(self.compute_rejection_stats(T=T, delta=delta, c_fp=c_fp, c_fn=c_fn, c_r=c_r))
        return prediction

    def compute_rejection_stats(
        self, T: int = 32, delta: float = 0.1, c_fp: float = 1, c_fn: float = 1, c_r: float = -1,
        verbose: bool = False,
    ) -> tuple[float, float, float]:
        """``(expected rejection rate, its upper bound with probability 1 - delta, upper bound of the cost)``."""
        check_is_fitted(self, _FITTED)
        if c_r < 0:
            c_r = self.contamination
        if delta <= 0 or delta >= 1:
            delta = 0.1
        gamma = self.contamination
        n = len(self.decision_scores_)
        k = int(n * gamma) - 1

        def quantile(c: float) -> float:
            return root_scalar(lambda p: binom.cdf(k, n, p) - c, bracket=[0, 1], method="brentq").root

        q1, q2 = quantile(1 - np.exp(-T)), quantile(np.exp(-T))
        expected_reject_rate = q2 - q1
        right_mar = min(1, (-gamma * (n + 2) + n + 1) / n + (T * (n + 2)) / (np.sqrt(2 * n**3 * T)))
        left_mar = max(0, (2 + n * (1 - gamma) * (n + 1)) / n**2 - np.sqrt(
            0.5 * n**5 * (2 * n * (-3 * gamma**2 - 2 * n * (1 - gamma) ** 2 + 4 * gamma - 3) + T * (n + 2) ** 2 - 8)
        ) / n**4)
        upperbound_rejectrate = right_mar - left_mar + 2 * np.sqrt(np.log(2 / delta) / (2 * n))
        upperbound_cost = np.min([gamma, q1]) * c_fp + np.min([1 - q2, gamma]) * c_fn + (q2 - q1) * c_r
        if verbose:
            print("Expected rejection rate: ", np.round(expected_reject_rate, 4), "%")
            print("Upper bound rejection rate: ", np.round(upperbound_rejectrate, 4), "%")
            print("Upper bound cost: ", np.round(upperbound_cost, 4))
        return expected_reject_rate, upperbound_rejectrate, upperbound_cost

    def fit_predict_score(self, X: Any, y: Any, scoring: str = "roc_auc_score") -> float:
        """Deprecated in PyOD (kept for its API): fit on ``X`` and score the training scores against ``y`` with
        ``"roc_auc_score"`` or ``"prc_n_score"`` (precision at rank n = number of outliers in ``y``)."""
        warnings.warn("Function fit_predict_score is deprecated", FutureWarning)
        self.fit(X)
        if scoring == "roc_auc_score":
            score = roc_auc_score(y, self.decision_scores_)
        elif scoring == "prc_n_score":
            y = np.asarray(y).ravel()
            top = np.zeros(len(y), dtype=int)
            top[np.argsort(self.decision_scores_)[::-1][: int(np.sum(y))]] = 1  # PyOD's get_label_n
            score = precision_score(y, top)
        else:
            raise NotImplementedError("PyOD built-in scoring only supports ROC and Precision @ rank n")
        print(f"{scoring}: {score}")
        return score

    def _predict_rank(self, X: Any, normalized: bool = False) -> np.ndarray:
        check_is_fitted(self, ["decision_scores_"])
        ranks = np.searchsorted(np.sort(self.decision_scores_), self.decision_function(X))
        return ranks / ranks.max() if normalized else ranks

    def _set_n_classes(self, y: Any) -> BaseDetector:
        self._classes = 2
        if y is not None:
            self._classes = len(np.unique(y))
            warnings.warn("y should not be presented in unsupervised learning.")
        return self


try:  # PyOD imports numba, about a second: paid once, only where the optional extra is installed
    from pyod.models.base import BaseDetector as _PyODBaseDetector
except ImportError:
    HAVE_PYOD = False
    DetectorBase: type = BaseDetector
else:
    HAVE_PYOD = True
    DetectorBase = _PyODBaseDetector
