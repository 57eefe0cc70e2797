"""The classic (shallow) baselines: one-class SVM and kernel density estimation (the paper's Tables 1 and 3), and PCA
reconstruction error (memae's addition, the linear autoencoder).

OC-SVM and KDE work on the flattened, scaled raw inputs by default; a PCA reduction (fitted on the training normals)
stays an option, but it throws away the residual in which one-class anomalies differ, so it is off by default.  All
subsample large training sets (KDD99 has about 200k training rows) to ``max_train`` rows with ``random_state``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from scipy.special import logsumexp
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.model_selection import KFold
from sklearn.neighbors import KernelDensity
from sklearn.svm import OneClassSVM

from ..detector_base import InstanceOf, Interval, Options, Satisfies
from .base import BaselineDetector

__all__ = ["OneClassSVMDetector", "KDEDetector", "PCADetector"]


def _positive_numbers(value: Any) -> bool:
    values = np.atleast_1d(np.asarray(value, dtype=float))
    return values.size > 0 and bool(np.all(values > 0))


class _FlatDetector(BaselineDetector):
    """Flatten -> subsample to ``max_train`` -> optional PCA, shared by the shallow detectors."""

    _parameter_rules = {
        **BaselineDetector._parameter_rules,
        "pca_components": [Interval(Integral, 1, None, "left"), None],
        "max_train": [Interval(Integral, 2, None, "left"), None],
        "random_state": [InstanceOf((Integral, np.random.RandomState), "an int or a numpy RandomState"), None],
    }

    def _prepare_train(self, X: np.ndarray) -> np.ndarray:
        flat = X.reshape(len(X), -1)
        self.n_train_seen_ = len(flat)
        if self.max_train is not None and len(flat) > self.max_train:
            rng = np.random.default_rng(self.random_state)
            flat = flat[np.sort(rng.choice(len(flat), int(self.max_train), replace=False))]
        self.pca_ = None
        if self.pca_components is not None:
            # More components than min(n, d) cannot be fitted: cap them instead of failing.
            k = min(int(self.pca_components), flat.shape[0], flat.shape[1])
            self.pca_ = PCA(n_components=k, random_state=self.random_state).fit(flat)
            flat = self.pca_.transform(flat)
        return flat.astype(np.float64)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        flat = X.reshape(len(X), -1)
        if self.pca_ is not None:
            flat = self.pca_.transform(flat)
        return flat.astype(np.float64)


class OneClassSVMDetector(_FlatDetector):
    """One-class SVM (Schoelkopf et al. 2001) on flattened, optionally PCA-reduced inputs.

    Hyper-parameters (no test labels involved):
        nu: upper bound on the fraction of training outliers, a prior on label noise in the training normals.
            Default 0.1.
        gamma: RBF kernel width; ``"scale"`` = 1 / (n_features * X.var()) of the training data (sklearn's rule).
        kernel: sklearn kernel name.  Default ``"rbf"``.
        pca_components: reduce to this many principal components first (fitted on the training normals), e.g. 64
            for MNIST/CIFAR-10 to keep fitting fast; ``None`` (default) = no reduction.
        max_train: fit on at most this many training rows, drawn with ``random_state`` (the SVM's cost grows
            quadratically; KDD99 has ~200k training rows).  Default 10000; ``None`` = all.
        random_state: seed of the subsample and PCA.
        contamination: share of outliers in the training data (0, 0.5], default 0.1; sets ``threshold_`` and ``labels_``.

    ``decision_function``: the SVM's signed distance to the boundary, negated: higher = more anomalous.
    """

    def __init__(
        self,
        nu: float = 0.1,
        gamma: str | float = "scale",
        kernel: str = "rbf",
        pca_components: int | None = None,
        max_train: int | None = 10000,
        random_state: int | None = 0,
        contamination: float = 0.1,
    ) -> None:
        self.nu = nu
        self.gamma = gamma
        self.kernel = kernel
        self.pca_components = pca_components
        self.max_train = max_train
        self.random_state = random_state
        self.contamination = contamination

    _parameter_rules = {
        **_FlatDetector._parameter_rules,
        "nu": [Interval(Real, 0, 1, "right")],
        "gamma": [Options({"scale", "auto"}), Interval(Real, 0, None, "left")],
        "kernel": [InstanceOf(str, "a str"), Satisfies(callable, "a callable")],
    }

    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:
        self.svm_ = OneClassSVM(nu=float(self.nu), gamma=self.gamma, kernel=self.kernel).fit(self._prepare_train(X))

    def _score(self, X: np.ndarray) -> np.ndarray:
        return -self.svm_.decision_function(self._transform(X))


class KDEDetector(_FlatDetector):
    """Gaussian kernel density estimate on flattened, optionally PCA-reduced inputs.

    Hyper-parameters (no test labels involved):
        bandwidths: candidate bandwidths; the one with the best held-out log-likelihood in ``cv``-fold
            cross-validation ON THE TRAINING NORMALS is kept.  ``None`` (default): Scott's rule
            ``sigma * n^(-1/(d+4))`` (``sigma`` = root mean per-feature variance) times 0.25, 0.5, 1, 2, 4.
        cv: number of folds (shuffled with ``random_state``).  Default 3.
        pca_components: reduce to this many principal components first; ``None`` (default) = no reduction.
        max_train: keep at most this many training rows (drawn with ``random_state``); scoring costs
            O(n_train) per sample.  Default 10000; ``None`` = all.
        random_state: seed of the subsample, the folds and PCA.
        contamination: share of outliers in the training data (0, 0.5], default 0.1; sets ``threshold_`` and ``labels_``.

    Fitted: ``bandwidth_`` (the chosen one), ``bandwidth_candidates_``, ``cv_results_``, ``train_`` (the rows of the
    estimate) and ``kde_`` (scikit-learn's ``KernelDensity`` of the same estimate, built on first access).
    ``decision_function``: ``-log p(x)`` under the estimate: higher = more anomalous.
    """

    _min_train_samples = 3

    def __init__(
        self,
        bandwidths: Any = None,
        cv: int = 3,
        pca_components: int | None = None,
        max_train: int | None = 10000,
        random_state: int | None = 0,
        contamination: float = 0.1,
    ) -> None:
        self.bandwidths = bandwidths
        self.cv = cv
        self.pca_components = pca_components
        self.max_train = max_train
        self.random_state = random_state
        self.contamination = contamination

    _parameter_rules = {
        **_FlatDetector._parameter_rules,
        "cv": [Interval(Integral, 2, None, "left")],
        "bandwidths": [None, Satisfies(_positive_numbers, "a positive number or a non-empty list of them")],
    }

    def candidate_bandwidths(self, flat: np.ndarray) -> np.ndarray:
        """The bandwidths to try for training rows ``flat`` ``(n, d)``: given ones, or Scott's rule x [1/4 .. 4]."""
        if self.bandwidths is not None:
            return np.atleast_1d(np.asarray(self.bandwidths, dtype=float))
        n, d = flat.shape
        sigma = float(np.sqrt(flat.var(axis=0).mean())) or 1.0  # constant data: any positive width will do
        scott = sigma * n ** (-1.0 / (d + 4))
        return scott * np.array([0.25, 0.5, 1.0, 2.0, 4.0])

    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:
        flat = self._prepare_train(X)
        candidates = self.bandwidth_candidates_ = self.candidate_bandwidths(flat)
        if len(candidates) == 1:
            self.bandwidth_ = float(candidates[0])
            self.cv_results_ = None
        else:
            # GridSearchCV's rule (highest mean held-out total log-likelihood over the folds), computed from one
            # distance matrix per fold for all bandwidths: sklearn's tree-based KDE crawls on raw 784-d pixels.
            folds = KFold(n_splits=min(int(self.cv), len(flat)), shuffle=True, random_state=self.random_state)
            totals = np.zeros((folds.get_n_splits(), len(candidates)))
            for f, (fit_rows, held_rows) in enumerate(folds.split(flat)):
                squared = _squared_distances(flat[held_rows], flat[fit_rows])
                for b, bandwidth in enumerate(candidates):
                    totals[f, b] = _gaussian_log_density(squared, bandwidth, flat.shape[1]).sum()
            self.cv_results_ = {"param_bandwidth": np.asarray(candidates), "mean_test_score": totals.mean(axis=0),
                                "split_test_scores": totals}
            self.bandwidth_ = float(candidates[int(totals.mean(axis=0).argmax())])
        self.train_ = flat
        self._kde = None  # kde_ is built on first access: scoring does not use its tree

    @property
    def kde_(self) -> KernelDensity:
        """scikit-learn's ``KernelDensity`` with ``bandwidth_`` on ``train_`` (the same density as the scores),
        fitted when first read; scores are computed brute force from ``train_`` and never need its tree."""
        if getattr(self, "_kde", None) is None:
            self._kde = KernelDensity(kernel="gaussian", bandwidth=self.bandwidth_).fit(self.train_)
        return self._kde

    def _score(self, X: np.ndarray) -> np.ndarray:
        query = self._transform(X)
        return -np.concatenate([
            _gaussian_log_density(_squared_distances(query[i:i + 1024], self.train_), self.bandwidth_, query.shape[1])
            for i in range(0, len(query), 1024)
        ])


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return euclidean_distances(a, b, squared=True)


def _gaussian_log_density(squared: np.ndarray, bandwidth: float, dims: int) -> np.ndarray:
    """log of the mean Gaussian kernel ``N(x; x_i, h^2 I)`` over the rows of ``squared`` (query x reference)."""
    norm = -0.5 * dims * np.log(2 * np.pi * bandwidth**2) - np.log(squared.shape[1])
    return logsumexp(-squared / (2 * bandwidth**2), axis=1) + norm


class PCADetector(_FlatDetector):
    """PCA reconstruction error: distance of a sample to the principal subspace of the training data.

    The linear counterpart of an autoencoder, and a strong image baseline: the anomalies of a one-class split differ
    from the normals mostly in the residual that the leading components of the normal class do not explain.

    Hyper-parameters (no test labels involved):
        n_components: an integer number of components, or a float in (0, 1): the fewest components that explain
            that share of the training variance.  Default 0.9, fixed before any result was seen.
        max_train: fit on at most this many training rows (drawn with ``random_state``).  Default 10000.
        random_state: seed of the subsample and of PCA's solver.
        contamination: share of outliers in the training data (0, 0.5], default 0.1; sets ``threshold_`` and ``labels_``.

    Fitted: ``pca_`` (sklearn's PCA), ``n_components_``.
    ``decision_function``: mean squared residual ``||x - P x||^2 / d``: higher = more anomalous.
    """

    def __init__(self, n_components: int | float = 0.9, max_train: int | None = 10000,
                 random_state: int | None = 0, contamination: float = 0.1) -> None:
        self.n_components = n_components
        self.max_train = max_train
        self.random_state = random_state
        self.contamination = contamination

    pca_components = None  # the shared flattening step must not reduce: this detector is the reduction

    _parameter_rules = {
        **_FlatDetector._parameter_rules,
        "n_components": [Interval(Integral, 1, None, "left"), Interval(Real, 0, 1, "neither")],
    }

    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:
        flat = self._prepare_train(X)
        k = self.n_components
        if not isinstance(k, float):
            k = min(int(k), flat.shape[0], flat.shape[1])  # more components than min(n, d) cannot be fitted
        self.pca_ = PCA(n_components=k, random_state=self.random_state).fit(flat)
        self.n_components_ = int(self.pca_.n_components_)

    def _score(self, X: np.ndarray) -> np.ndarray:
        flat = X.reshape(len(X), -1).astype(np.float64)
        residual = flat - self.pca_.inverse_transform(self.pca_.transform(flat))
        return (residual**2).mean(axis=1)
