"""The one-class protocol of MemAE (Gong et al., ICCV 2019, section 4.1) for labelled image sets.

For a chosen normal class ``c``:

* the samples of class ``c`` are shuffled and split 2:1 into training and test normals (disjoint);
* 10 % of the training normals are held out as a validation set (for early stopping / model choice);
* anomalies are drawn at random, without replacement, from all samples of the other classes, so that
  they make up about 30 % of the test set (their class mix follows the data, as in the paper).

The split is meant for the *pooled* data of a dataset: the caller concatenates the official train and
test sets (``load_image_dataset(..., split="all")``) and passes the pooled labels.  The paper samples
its train/test partitions from each dataset as a whole rather than reusing the official split, and
pooling gives every class enough normals for the 2:1 split.  All indices index the given label array.

:func:`official_test_split` is the variant whose test set holds official *test* images only, so that a recipe chosen
by the same protocol inside the official training images (development data) never sees a published test label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memae.errors import ConfigError, DataError


@dataclass(frozen=True, eq=False)
class OneClassSplit:
    """Indices of one one-class experiment (all sorted ascending, read-only).

    Attributes
    ----------
    train_idx : np.ndarray
        (n_train,) int64 indices of training normals.
    val_idx : np.ndarray
        (n_val,) int64 indices of held-out validation normals.
    test_idx : np.ndarray
        (n_test,) int64 indices of test samples (normals of the class and anomalies).
    test_is_anomaly : np.ndarray
        (n_test,) bool, aligned with ``test_idx``: True where the test sample is an anomaly.
    normal_class : int
        The class treated as normal.
    seed : int
        The seed the split was drawn with.
    """

    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    test_is_anomaly: np.ndarray
    normal_class: int
    seed: int

    @property
    def anomaly_share(self) -> float:
        """Fraction of the test set that is anomalous."""
        return float(self.test_is_anomaly.mean()) if self.test_is_anomaly.size else 0.0


def _round(x: float) -> int:
    return int(np.floor(x + 0.5))  # round half up (Python's round() rounds half to even)


def _check_fraction(name: str, value: float, allow_zero: bool) -> float:
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value < 1.0):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ConfigError(f"{name} must be in {interval}, got {value}")
    return value


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def one_class_split(
    labels: np.ndarray,
    normal_class: int,
    seed: int,
    train_fraction: float = 2 / 3,
    anomaly_fraction: float = 0.3,
    val_fraction: float = 0.1,
) -> OneClassSplit:
    """Draw the MemAE one-class train/validation/test split for ``normal_class``.

    Parameters
    ----------
    labels : np.ndarray
        (N,) integer class labels of the pooled dataset.
    normal_class : int
        The class whose samples are normal.
    seed : int
        Seed for :func:`numpy.random.default_rng`; the same inputs and seed give the same split.
    train_fraction : float
        Share of the normal samples used for training (+ validation); the rest are test normals.
    anomaly_fraction : float
        Target share of anomalies in the test set.
    val_fraction : float
        Share of the training normals held out for validation.

    Returns
    -------
    OneClassSplit
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(f"labels must be a 1-D integer array, got {labels.dtype} of shape {labels.shape}")
    train_fraction = _check_fraction("train_fraction", train_fraction, allow_zero=False)
    anomaly_fraction = _check_fraction("anomaly_fraction", anomaly_fraction, allow_zero=False)
    val_fraction = _check_fraction("val_fraction", val_fraction, allow_zero=True)
    present = np.unique(labels)
    if normal_class not in present:
        raise ConfigError(
            f"normal class {normal_class} does not occur in the labels; choose one of {present.tolist()}"
        )

    rng = np.random.default_rng(seed)
    normals = rng.permutation(np.flatnonzero(labels == normal_class))
    n_normal = normals.size
    n_train_all = _round(n_normal * train_fraction)
    n_val = _round(n_train_all * val_fraction)
    n_test_normal = n_normal - n_train_all
    if n_train_all - n_val < 1 or n_test_normal < 1:
        raise DataError(
            f"class {normal_class} has only {n_normal} samples: too few for a {train_fraction:.3g} train share "
            f"with {val_fraction:.3g} validation; use a larger dataset or other fractions"
        )
    # a / (t + a) = f  =>  a = t * f / (1 - f)
    n_anomaly = max(1, _round(n_test_normal * anomaly_fraction / (1.0 - anomaly_fraction)))
    pool = np.flatnonzero(labels != normal_class)
    if pool.size < n_anomaly:
        raise DataError(
            f"need {n_anomaly} anomalies for a {anomaly_fraction:.0%} share of the test set but the other classes "
            f"have only {pool.size} samples; lower anomaly_fraction or add data"
        )
    anomalies = rng.choice(pool, size=n_anomaly, replace=False)

    val_idx = np.sort(normals[:n_val])
    train_idx = np.sort(normals[n_val:n_train_all])
    test_all = np.concatenate([normals[n_train_all:], anomalies])
    is_anomaly = np.concatenate([np.zeros(n_test_normal, bool), np.ones(n_anomaly, bool)])
    order = np.argsort(test_all, kind="stable")
    return OneClassSplit(
        train_idx=_readonly(train_idx.astype(np.int64)),
        val_idx=_readonly(val_idx.astype(np.int64)),
        test_idx=_readonly(test_all[order].astype(np.int64)),
        test_is_anomaly=_readonly(is_anomaly[order]),
        normal_class=int(normal_class),
        seed=int(seed),
    )


def official_test_split(
    train_labels: np.ndarray,
    test_labels: np.ndarray,
    normal_class: int,
    seed: int,
    train_fraction: float = 2 / 3,
    anomaly_fraction: float = 0.3,
    val_fraction: float = 0.1,
) -> OneClassSplit:
    """The one-class protocol with training and test images from the official train and test sets apart.

    Training and validation normals are exactly those :func:`one_class_split` draws from the official training
    labels at the same seed (the development protocol's training set, on which a recipe is chosen); the test set is
    every normal of the official test set plus anomalies drawn from its other classes for ``anomaly_fraction``.
    The paper's 2:1 ratio of training to test normals holds inside the training images; the test side has all
    the normals the official test set holds (about 1,000 a class for MNIST, so about 4:1 overall).

    Indices index the pooled array ``concatenate([train, test])``: test indices are offset by ``len(train_labels)``.
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    inside = one_class_split(train_labels, normal_class, seed, train_fraction, anomaly_fraction, val_fraction)
    if test_labels.ndim != 1 or test_labels.dtype.kind not in "iu":
        raise DataError(f"test labels must be a 1-D integer array, got {test_labels.dtype} of shape {test_labels.shape}")
    # A generator of its own (seed, 1) so that the test draw does not depend on how many numbers the training draw used.
    rng = np.random.default_rng([seed, 1])
    normals = np.flatnonzero(test_labels == normal_class)
    if normals.size < 1:
        raise DataError(f"the official test set has no images of class {normal_class}; use data.protocol: paper")
    n_anomaly = max(1, _round(normals.size * anomaly_fraction / (1.0 - anomaly_fraction)))
    pool = np.flatnonzero(test_labels != normal_class)
    if pool.size < n_anomaly:
        raise DataError(f"need {n_anomaly} anomalies for a {anomaly_fraction:.0%} share of the test set but the "
                        f"official test set's other classes have {pool.size}; lower anomaly_fraction")
    anomalies = rng.choice(pool, size=n_anomaly, replace=False)
    test_all = np.concatenate([normals, anomalies])
    is_anomaly = np.concatenate([np.zeros(normals.size, bool), np.ones(n_anomaly, bool)])
    order = np.argsort(test_all, kind="stable")
    offset = len(train_labels)
    return OneClassSplit(
        train_idx=inside.train_idx,
        val_idx=inside.val_idx,
        test_idx=_readonly((test_all[order] + offset).astype(np.int64)),
        test_is_anomaly=_readonly(is_anomaly[order]),
        normal_class=int(normal_class),
        seed=int(seed),
    )
