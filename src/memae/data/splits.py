"""Every split protocol of memae: which samples train, which validate and which test.

All the splits of the package live here, one function per protocol, and return indices (never data):

============================  ==========================================================================
:func:`one_class_split`       one-class image sets, ``data.protocol: paper`` (pooled train + test images)
:func:`official_test_split`   one-class image sets, ``data.protocol: official-test``
:func:`prelabelled_split`     image folders with ``normal/`` and ``anomalous/`` subfolders
:func:`table_split`           a CSV/Parquet table (``data.dataset: table``), labelled or not
:func:`kdd_split`             KDD Cup 99: the random training half of all rows (DAGMM)
:func:`kdd_protocol_split`    KDD Cup 99 by ``data.protocol`` (``paper`` or ``dagmm-code``), with validation
:func:`video_tail_split`      a training video: the last share of its frames validates
:func:`detector_holdout`      :class:`~memae.detector.MemAEDetector`'s validation rows
:func:`adbench_split`         ADBench's sub-sample and stratified 70/30 split
============================  ==========================================================================

Conventions
-----------
* **Seeds, not generators.**  Every function takes an integer ``seed`` and builds its generator from it, so a split
  never depends on what was drawn before it; the same arguments always give the same indices.  Inside a function
  the draws share one generator, except where a docstring names a second one (the official test set's own
  ``default_rng([seed, 1])``; KDD's validation holdout, which a fresh ``default_rng(seed)`` draws for compatibility).
* **One rounding rule: round half up** (``floor(x + 0.5)``, :func:`round_count`), not Python's ``round``, which
  rounds half to even.  Protocols whose published numbers were drawn with another rule keep it as a named
  compatibility mode, said in their docstring: ``"floor"`` (the KDD halves, MemAEDetector's holdout),
  ``"ceil"`` (the video validation tail, which is *at least* its share) and ``"half-even"`` (the validation
  holdout of tables and KDD).  Changing any of them would move published splits.
* Index arrays are int64 and sorted ascending, except where a docstring says they keep the order they were drawn
  in (MemAEDetector and ADBench, whose training order follows it).

``tests/test_splits.py`` checks every function against the indices the code before issue 21 drew
(``tests/data/splits/``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from ..errors import ConfigError, DataError

__all__ = [
    "Rounding", "round_count", "OneClassSplit", "one_class_split", "official_test_split", "Split",
    "prelabelled_split", "table_split", "KDDSplit", "kdd_split", "KDD_PROTOCOLS", "kdd_protocol_split",
    "video_tail_split", "detector_holdout", "ADBENCH_MAX_ROWS", "adbench_split",
]

#: ``"half-up"`` is the rule; the others are compatibility modes of the protocols that name them.
Rounding = Literal["half-up", "floor", "ceil", "half-even"]


def round_count(x: float, rounding: Rounding = "half-up") -> int:
    """A count from a real number: ``floor(x + 0.5)`` (round half up), or a protocol's compatibility mode.

    ``"floor"`` and ``"ceil"`` round down and up (``"ceil"`` forgives 1e-9, so that ``0.1 * 150``, which is
    15.000000000000002, is 15); ``"half-even"`` is Python's ``round`` (2.5 -> 2).

    >>> [round_count(2.5), round_count(2.5, "half-even"), round_count(2.5, "floor"), round_count(2.5, "ceil")]
    [3, 2, 2, 3]
    """
    if rounding == "half-up":
        return int(np.floor(x + 0.5))
    if rounding == "floor":
        return int(np.floor(x))
    if rounding == "ceil":
        return math.ceil(x - 1e-9)
    if rounding == "half-even":
        return int(round(x))
    raise ValueError(f"rounding must be one of half-up, floor, ceil, half-even, got {rounding!r}")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _check_fraction(name: str, value: float, allow_zero: bool) -> float:
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value < 1.0):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ConfigError(f"{name} must be in {interval}, got {value}")
    return value


def _holdout(rng: np.random.Generator, rows: np.ndarray, fraction: float,
             rounding: Rounding = "half-up") -> tuple[np.ndarray, np.ndarray]:
    """``rows`` split at random into (kept, held out), ``round_count(len(rows) * fraction)`` held out, both sorted."""
    order = rng.permutation(len(rows))
    n_val = round_count(len(rows) * fraction, rounding)
    return rows[np.sort(order[n_val:])], rows[np.sort(order[:n_val])]


class Split(NamedTuple):
    """Indices of one train/validation/test split (sorted ascending).

    ``test_is_anomaly`` is aligned with ``test_idx``, or None when the data has no labels.
    """

    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    test_is_anomaly: np.ndarray | None


# ----------------------------------------------------------------------------------------------------------------
# One-class image sets (MemAE, Gong et al., ICCV 2019, section 4.1)
# ----------------------------------------------------------------------------------------------------------------


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


def one_class_split(
    labels: np.ndarray,
    normal_class: int,
    seed: int,
    train_fraction: float = 2 / 3,
    anomaly_fraction: float = 0.3,
    val_fraction: float = 0.1,
) -> OneClassSplit:
    """The MemAE one-class split for ``normal_class`` (``data.protocol: paper``).

    * the samples of class ``normal_class`` are shuffled and split 2:1 into training and test normals (disjoint);
    * ``val_fraction`` of the training normals are held out for validation (early stopping, model choice);
    * anomalies are drawn at random, without replacement, from all samples of the other classes, so that they make
      up about ``anomaly_fraction`` of the test set (their class mix follows the data, as in the paper).

    The split is meant for the *pooled* data of a dataset (``load_image_dataset(..., split="all")``): the paper
    samples its partitions from each dataset as a whole, and pooling gives every class enough normals for the 2:1
    split.  One generator, ``default_rng(seed)``, draws the normals' order and then the anomalies.  Counts round half
    up.

    Parameters
    ----------
    labels : np.ndarray
        (N,) integer class labels of the pooled dataset.
    normal_class : int
        The class whose samples are normal.
    seed : int
        Seed for :func:`numpy.random.default_rng`.
    train_fraction : float
        Share of the normal samples used for training (+ validation); the rest are test normals.
    anomaly_fraction : float
        Target share of anomalies in the test set.
    val_fraction : float
        Share of the training normals held out for validation.

    Returns
    -------
    OneClassSplit
        Indices into ``labels``.
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
    n_train_all = round_count(n_normal * train_fraction)
    n_val = round_count(n_train_all * val_fraction)
    n_test_normal = n_normal - n_train_all
    if n_train_all - n_val < 1 or n_test_normal < 1:
        raise DataError(
            f"class {normal_class} has only {n_normal} samples: too few for a {train_fraction:.3g} train share "
            f"with {val_fraction:.3g} validation; use a larger dataset or other fractions"
        )
    test_idx, test_is_anomaly = _one_class_test_set(
        labels, normal_class, normals[n_train_all:], anomaly_fraction, rng,
        "the other classes have only {n} samples; lower anomaly_fraction or add data")
    return OneClassSplit(
        train_idx=_readonly(np.sort(normals[n_val:n_train_all]).astype(np.int64)),
        val_idx=_readonly(np.sort(normals[:n_val]).astype(np.int64)),
        test_idx=test_idx,
        test_is_anomaly=test_is_anomaly,
        normal_class=int(normal_class),
        seed=int(seed),
    )


def _one_class_test_set(labels: np.ndarray, normal_class: int, test_normals: np.ndarray, anomaly_fraction: float,
                        rng: np.random.Generator, shortage: str) -> tuple[np.ndarray, np.ndarray]:
    """Test indices (sorted, read-only) and their anomaly flags: ``test_normals`` plus anomalies drawn by ``rng``
    from the other classes of ``labels`` for an ``anomaly_fraction`` share.  ``shortage`` ends the error when the
    other classes have too few samples (``{n}``: how many they have)."""
    # a / (t + a) = f  =>  a = t * f / (1 - f)
    n_anomaly = max(1, round_count(test_normals.size * anomaly_fraction / (1.0 - anomaly_fraction)))
    pool = np.flatnonzero(labels != normal_class)
    if pool.size < n_anomaly:
        raise DataError(f"need {n_anomaly} anomalies for a {anomaly_fraction:.0%} share of the test set but "
                        + shortage.format(n=pool.size))
    anomalies = rng.choice(pool, size=n_anomaly, replace=False)
    test_all = np.concatenate([test_normals, anomalies])
    is_anomaly = np.concatenate([np.zeros(test_normals.size, bool), np.ones(n_anomaly, bool)])
    order = np.argsort(test_all, kind="stable")
    return _readonly(test_all[order].astype(np.int64)), _readonly(is_anomaly[order])


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
    labels at the same seed (the development protocol's training set, on which a recipe is chosen), so a recipe
    chosen there never sees a published test label; the test set is every normal of the official test set plus
    anomalies drawn from its other classes for ``anomaly_fraction``.  The paper's 2:1 ratio of training to test
    normals holds inside the training images; the test side has all the normals the official test set holds (about
    1,000 a class for MNIST, so about 4:1 overall).  The test anomalies come from a generator of their own,
    ``default_rng([seed, 1])``, so that they do not depend on how many numbers the training draw used.

    Indices index the pooled array ``concatenate([train, test])``: test indices are offset by ``len(train_labels)``.
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    inside = one_class_split(train_labels, normal_class, seed, train_fraction, anomaly_fraction, val_fraction)
    if test_labels.ndim != 1 or test_labels.dtype.kind not in "iu":
        raise DataError(f"test labels must be a 1-D integer array, got {test_labels.dtype} of shape {test_labels.shape}")
    normals = np.flatnonzero(test_labels == normal_class)
    if normals.size < 1:
        raise DataError(f"the official test set has no images of class {normal_class}; use data.protocol: paper")
    test_idx, test_is_anomaly = _one_class_test_set(
        test_labels, normal_class, normals, anomaly_fraction, np.random.default_rng([seed, 1]),
        "the official test set's other classes have {n}; lower anomaly_fraction")
    return OneClassSplit(
        train_idx=inside.train_idx,
        val_idx=inside.val_idx,
        test_idx=_readonly(test_idx + len(train_labels)),  # indices into concatenate([train, test])
        test_is_anomaly=test_is_anomaly,
        normal_class=int(normal_class),
        seed=int(seed),
    )


def prelabelled_split(is_anomaly: np.ndarray, seed: int, val_fraction: float,
                      train_fraction: float = 2 / 3) -> Split:
    """Images already labelled normal or anomalous (``normal/`` and ``anomalous/`` folders).

    ``train_fraction`` of the normals train (round half up), ``val_fraction`` of those are held out for validation
    (compatibility mode ``"half-even"``), and the test set is the other normals plus every anomaly.  One generator,
    ``default_rng(seed)``, draws the normals' order and then the holdout.
    """
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(~is_anomaly)
    normal = normal[rng.permutation(len(normal))]
    n_train = round_count(len(normal) * train_fraction)
    train_all = normal[:n_train]
    test_idx = np.sort(np.r_[normal[n_train:], np.flatnonzero(is_anomaly)]).astype(np.int64)
    train_idx, val_idx = _holdout(rng, train_all, val_fraction, "half-even")
    return Split(np.sort(train_idx).astype(np.int64), np.sort(val_idx).astype(np.int64), test_idx,
                 is_anomaly[test_idx])


# ----------------------------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------------------------


def table_split(n_rows: int, is_anomaly: np.ndarray | None, seed: int, val_fraction: float) -> Split:
    """A table's rows (``data.dataset: table``).

    Labelled (``is_anomaly`` given): a random half of the rows (``n_rows // 2``) is the training half, of which only
    the normal rows train; the other half is the test set.  Unlabelled: every row trains and every row is scored.
    ``val_fraction`` of the training rows are then held out for validation, with compatibility rounding
    ``"half-even"`` (``evaluate`` and ``--resume`` re-create the split of a checkpoint trained before issue 21).
    One generator, ``default_rng(seed)``, draws the half and then the holdout.
    """
    rng = np.random.default_rng(seed)
    if is_anomaly is not None:
        is_anomaly = np.asarray(is_anomaly, dtype=bool)
        order = rng.permutation(n_rows)
        half = round_count(n_rows * 0.5, "floor")
        train_half, test_idx = np.sort(order[:half]), np.sort(order[half:])
        train_pool, test_is_anomaly = train_half[~is_anomaly[train_half]], is_anomaly[test_idx]
    else:
        train_pool, test_idx, test_is_anomaly = np.arange(n_rows), np.arange(n_rows), None
    train_idx, val_idx = _holdout(rng, train_pool, val_fraction, "half-even")
    return Split(train_idx.astype(np.int64), val_idx.astype(np.int64), test_idx.astype(np.int64), test_is_anomaly)


class KDDSplit(NamedTuple):
    """Row indices (sorted, into the full data) of the DAGMM/MemAE split."""

    train_idx: np.ndarray  #: the random training half (both classes)
    test_idx: np.ndarray  #: all other rows
    train_normal_idx: np.ndarray  #: normal-class (attack, ``~is_anomaly``) rows of the training half


def kdd_split(n_rows: int, is_anomaly: Any, seed: int, train_fraction: float = 0.5) -> KDDSplit:
    """Random train/test split of ALL rows; models train on ``train_normal_idx`` only.

    Parameters
    ----------
    n_rows : int
        Number of rows in the data.
    is_anomaly : array of bool, shape (n_rows,)
        The anomaly flags (``KDDData.is_anomaly``).
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed always gives the same split.
    train_fraction : float
        Share of all rows in the training half, ``floor(n_rows * train_fraction)`` rows (0.5 as DAGMM; compatibility
        rounding ``"floor"``, with which Table 3 was drawn).

    Returns
    -------
    KDDSplit
        ``(train_idx, test_idx, train_normal_idx)``, each sorted ascending.
    """
    is_anomaly = np.asarray(is_anomaly)
    if is_anomaly.dtype != bool or is_anomaly.shape != (n_rows,):
        raise DataError(
            f"is_anomaly must be a bool array of shape ({n_rows},), got {is_anomaly.dtype} {is_anomaly.shape}"
        )
    if not 0.0 < float(train_fraction) < 1.0:
        raise ConfigError(f"train_fraction={train_fraction} must lie strictly between 0 and 1 (DAGMM uses 0.5)")
    perm = np.random.default_rng(seed).permutation(n_rows)
    n_train = round_count(n_rows * float(train_fraction), "floor")
    train_idx = np.sort(perm[:n_train])
    test_idx = np.sort(perm[n_train:])
    return KDDSplit(train_idx, test_idx, train_idx[~is_anomaly[train_idx]])


KDD_PROTOCOLS = ("paper", "dagmm-code")


def kdd_protocol_split(is_anomaly: np.ndarray, seed: int, val_fraction: float = 0.1, protocol: str = "paper") -> Split:
    """KDD Cup 99 rows by ``data.protocol`` (``normal.`` rows, ``is_anomaly``, are the anomalies in both).

    ``paper`` (the DAGMM paper's text, followed by MemAE): :func:`kdd_split`, the attack rows of a random half of all
    rows train and the other half tests.  ``dagmm-code`` (``danieltan07/dagmm``): a random half (floor) of the
    attack rows trains; the test set is the other half plus every ``normal.`` row.

    In both, ``val_fraction`` of the training rows are held out for validation (compatibility rounding
    ``"half-even"``) by a second generator seeded with the same ``seed`` (compatibility: Table 3 was drawn so).
    """
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    if protocol == "paper":
        split = kdd_split(len(is_anomaly), is_anomaly, seed)
        train_pool, test_idx = split.train_normal_idx, split.test_idx
    elif protocol == "dagmm-code":
        attacks = np.flatnonzero(~is_anomaly)
        order = np.random.default_rng(seed).permutation(len(attacks))
        half = round_count(len(attacks) * 0.5, "floor")
        train_pool = np.sort(attacks[order[:half]])
        test_idx = np.sort(np.r_[attacks[order[half:]], np.flatnonzero(is_anomaly)])
    else:
        raise ConfigError(f"data.protocol must be one of {', '.join(KDD_PROTOCOLS)}, got {protocol!r}")
    train_idx, val_idx = _holdout(np.random.default_rng(seed), train_pool, val_fraction, "half-even")
    return Split(train_idx.astype(np.int64), val_idx.astype(np.int64), test_idx.astype(np.int64),
                 is_anomaly[test_idx])


# ----------------------------------------------------------------------------------------------------------------
# Videos, the detector, ADBench
# ----------------------------------------------------------------------------------------------------------------


def video_tail_split(n_frames: int, clip_len: int, val_fraction: float) -> tuple[slice, slice | None]:
    """A training video split in time: its last ``val_fraction`` of frames, at least one clip, validate.

    The share rounds up (compatibility rounding ``"ceil"``: the validation tail is *at least* its share) and is
    raised to ``clip_len``.  Returns ``(train, val)`` frame slices; ``val`` is None when ``val_fraction`` is 0 or the
    video is too short to give both parts a clip (then every frame trains).  Nothing random.
    """
    if val_fraction <= 0:
        return slice(0, n_frames), None
    n_val = max(round_count(val_fraction * n_frames, "ceil"), clip_len)
    if n_frames - n_val < clip_len:
        return slice(0, n_frames), None
    return slice(0, n_frames - n_val), slice(n_frames - n_val, n_frames)


def detector_holdout(n_rows: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:class:`~memae.detector.MemAEDetector`'s validation rows: ``(train_rows, val_rows)``.

    ``floor(n_rows * fraction)`` rows (compatibility rounding ``"floor"``, with which the ADBench results were
    fitted) of a ``default_rng(seed)`` permutation validate, the rest train.  Both keep the permutation's order (not
    sorted): the training batches are drawn from them in that order.
    """
    order = np.random.default_rng(seed).permutation(n_rows)
    n_val = round_count(n_rows * fraction, "floor")
    return order[n_val:], order[:n_val]


ADBENCH_MAX_ROWS = 10_000  #: ADBench sub-samples larger tables to this many rows


def adbench_split(y: np.ndarray, seed: int, max_rows: int = ADBENCH_MAX_ROWS,
                  test_size: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """ADBench's unsupervised split: ``(train_rows, test_rows)`` indices into ``y``.

    A table with more than ``max_rows`` rows is first sub-sampled to ``max_rows`` by
    ``numpy.random.RandomState(seed).choice`` (no replacement); then scikit-learn's ``train_test_split`` with
    ``random_state=seed``, stratified by ``y``, holds out ``test_size``.  ADBench's own generators and rounding, kept
    as they are so that the numbers compare with ADBench's.  Both arrays are in scikit-learn's order (not sorted),
    which is the detectors' training order.
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    rows = np.arange(len(y))
    if len(y) > max_rows:
        rows = np.random.RandomState(seed).choice(len(y), max_rows, replace=False)
    train, test = train_test_split(np.arange(len(rows)), test_size=test_size, random_state=seed, stratify=y[rows])
    return rows[train].astype(np.int64), rows[test].astype(np.int64)
