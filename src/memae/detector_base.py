"""The one base class of every memae detector (:class:`memae.MemAEDetector` and every baseline), and the declared
parameter constraints that its ``fit`` checks.

:class:`BaseDetector` derives from PyOD's own ``BaseDetector`` when PyOD is installed, else from a stand-in with the
same public API and semantics.  Why reuse PyOD's class rather than re-write it: ``isinstance(det,
pyod.models.base.BaseDetector)`` is what PyOD's meta-detectors check (``EmbeddingOD``, combination and
model-selection tools), and inheriting keeps every method (``predict_confidence``, the rejection option, thresholder
objects, ...) exactly as the installed PyOD computes it, including future fixes.  PyOD is an optional extra (``pip
install memae[pyod]``), so without it :class:`_PyODStandIn` below provides the same public methods;
``tests/test_detector_pyod.py`` checks that both give identical outputs.  The stand-in follows PyOD 2.x/3.x
``pyod/models/base.py`` (BSD 2-Clause, Yue Zhao), vectorised instead of ``np.vectorize``.

Parameters are checked the way scikit-learn checks its own: a subclass declares ``_parameter_rules``, one list of
accepted forms per constructor parameter (:class:`Interval`, :class:`Options`, :class:`InstanceOf`,
:class:`HasMethods`, :class:`Satisfies` or ``None``), and ``fit`` calls :meth:`BaseDetector._check_params`,
which raises :class:`DetectorParameterError` with scikit-learn's message layout.  (Not scikit-learn's attribute
name ``_parameter_constraints``: its estimator checks read that one and expect the classes of its private
``sklearn.utils._param_validation``.)

>>> from numbers import Real
>>> class Toy(BaseDetector):
...     _parameter_rules = {**BaseDetector._parameter_rules, "scale": [Interval(Real, 0, None, "neither")]}
...     def __init__(self, scale=1.0, contamination=0.1):
...         self.scale, self.contamination = scale, contamination
...     def fit(self, X, y=None):
...         self._check_params()
...         return self
...     def decision_function(self, X):
...         return X
>>> Toy(scale=-1).fit(None)
Traceback (most recent call last):
    ...
memae.detector_base.DetectorParameterError: The 'scale' parameter of Toy must be a float in the range (0.0, inf). Got -1 instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.optimize import root_scalar
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import BaseEstimator
from sklearn.metrics import precision_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted

from .errors import ConfigError

__all__ = ["BaseDetector", "DetectorParameterError", "HAVE_PYOD", "is_thresholder", "Interval", "Options",
           "InstanceOf", "HasMethods", "Satisfies", "positive_ints"]

_FITTED = ["decision_scores_", "threshold_", "labels_"]


class _PyODStandIn(BaseEstimator):
    """PyOD's ``BaseDetector`` API for when PyOD is not installed (see the module docstring).

    A subclass implements ``fit`` (setting ``decision_scores_`` and calling :meth:`_process_decision_scores`) and
    ``decision_function`` (higher = more anomalous); everything else here derives from those two.
    """

    contamination: Any

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "outlier_detector"  # what sklearn.base.is_outlier_detector reads; PyOD does the same
        return tags

    def _process_decision_scores(self) -> _PyODStandIn:
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

    def _set_n_classes(self, y: Any) -> _PyODStandIn:
        self._classes = 2
        if y is not None:
            self._classes = len(np.unique(y))
            warnings.warn("y should not be presented in unsupervised learning.")
        return self


try:  # PyOD imports numba, about a second: paid once, only where the optional extra is installed
    from pyod.models.base import BaseDetector as _PyODBase
except ImportError:
    HAVE_PYOD = False
    _PyODBase = _PyODStandIn
else:
    HAVE_PYOD = True


# -- declared parameter constraints ----------------------------------------------------------------------------------


class DetectorParameterError(ConfigError, TypeError):
    """A bad detector parameter: a :class:`~memae.errors.ConfigError` (so a ``ValueError``) and a ``TypeError``,
    like scikit-learn's own parameter errors, with their message."""


class Interval:
    """Numbers of ``kind`` (``Integral`` or ``Real``) between ``low`` and ``high`` (None: unbounded); ``closed`` is
    "left", "right", "both" or "neither", as in scikit-learn's ``Interval``.  As there, bools count as ints and ints
    as floats; NaN is never in range."""

    def __init__(self, kind: type, low: float | None, high: float | None, closed: str) -> None:
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be 'left', 'right', 'both' or 'neither', got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, self.kind) or (self.kind is Real and math.isnan(value)):
            return False
        low_in, high_in = self.closed in ("left", "both"), self.closed in ("right", "both")
        above = self.low is None or (value >= self.low if low_in else value > self.low)
        below = self.high is None or (value <= self.high if high_in else value < self.high)
        return above and below

    def __str__(self) -> str:
        def bound(v: float | None, sign: str) -> str:
            return f"{sign}inf" if v is None else str(float(v) if self.kind is Real else int(v))
        left = "[" if self.closed in ("left", "both") and self.low is not None else "("
        right = "]" if self.closed in ("right", "both") and self.high is not None else ")"
        kind = "an int" if self.kind is Integral else "a float"
        return f"{kind} in the range {left}{bound(self.low, '-')}, {bound(self.high, '')}{right}"


class Options:
    """One of a fixed set of strings."""

    def __init__(self, options: Any) -> None:
        self.options = tuple(options)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"


class InstanceOf:
    """An instance of one of ``types``, described as ``description`` (e.g. "a dict")."""

    def __init__(self, types: type | tuple[type, ...], description: str) -> None:
        self.types, self.description = types, description

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


class HasMethods:
    """An object with callable ``methods`` (a PyThresh-style thresholder has ``fit`` and ``predict``)."""

    def __init__(self, methods: tuple[str, ...]) -> None:
        self.methods = tuple(methods)

    def accepts(self, value: Any) -> bool:
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self) -> str:
        return "an object implementing " + " and ".join(repr(m) for m in self.methods)


class Satisfies:
    """A value for which ``predicate`` is true, for forms the other constraints cannot say (a list of positive
    ints); ``description`` is what the error message calls it."""

    def __init__(self, predicate: Callable[[Any], bool], description: str) -> None:
        self.predicate, self.description = predicate, description

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self.description


def _accepts(constraint: Any, value: Any) -> bool:
    return value is None if constraint is None else constraint.accepts(value)


def _describe(constraints: list[Any]) -> str:
    texts = [str(c) for c in constraints if c is not None] + (["None"] if None in constraints else [])
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def positive_ints(value: Any) -> bool:
    """A non-empty list or tuple of positive ints (bools excluded): layer widths."""
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in value))


def is_thresholder(contamination: Any) -> bool:
    """Whether ``contamination`` is a PyThresh-style object (``fit(scores)`` then ``labels_``/``thresh_``,
    ``predict(scores)``) rather than a share of outliers."""
    return not isinstance(contamination, (float, int, np.floating, np.integer))


class BaseDetector(_PyODBase):
    """The base of every memae detector: PyOD's detector API (see the module docstring) and scikit-learn's
    estimator API, with parameters checked against the declared ``_parameter_rules``.

    A subclass's ``__init__`` only stores its keyword arguments (so ``get_params``, ``set_params`` and
    ``sklearn.base.clone`` work); it declares a constraint list for every one of them in ``_parameter_rules``;
    its ``fit`` calls :meth:`_check_params` first, sets ``decision_scores_`` (the training scores, higher = more
    anomalous) and ends with :meth:`_process_decision_scores` (``threshold_``, ``labels_``) and ``return self``; it
    implements ``decision_function``.  ``predict``, ``predict_proba``, ``predict_confidence``, ``fit_predict`` and
    ``score_samples`` come from here.
    """

    #: Accepted forms of each constructor parameter: one of the list must accept the value.
    _parameter_rules: dict[str, list[Any]] = {
        "contamination": [Interval(Real, 0, 0.5, "right"), HasMethods(("fit", "predict"))],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "outlier_detector"  # what sklearn.base.is_outlier_detector reads; PyOD does the same
        return tags

    def _check_params(self) -> None:
        """Raise :class:`DetectorParameterError` for a parameter that none of its declared constraints accepts
        (and for a parameter without a declaration: every parameter is checked)."""
        name = type(self).__name__
        for key, value in self.get_params(deep=False).items():
            constraints = self._parameter_rules.get(key)
            if constraints is None:
                raise TypeError(f"{name}._parameter_rules declares nothing for its parameter {key!r}")
            if not any(_accepts(c, value) for c in constraints):
                raise DetectorParameterError(
                    f"The {key!r} parameter of {name} must be {_describe(constraints)}. Got {value!r} instead.")

    def _process_decision_scores(self) -> BaseDetector:
        """The one place for ``threshold_`` and ``labels_`` (a float ``contamination``: the ``1 - contamination``
        quantile of ``decision_scores_``; a thresholder object: its own ``fit``)."""
        self._classes = 2  # PyOD's predict_proba reads it; set here so that a loaded detector gets it too
        super()._process_decision_scores()
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on ``X`` and return its 0/1 labels (``labels_``), shape (n_samples,)."""
        return self.fit(X).labels_

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn's normality score: HIGHER = MORE NORMAL, ``-decision_function(X)``."""
        return -self.decision_function(X)
