"""One entry point from a config's ``data`` section to train/validation/test arrays.

Data flows one way: this module reads and splits, the model never sees test labels during training, and the
validation set is always carved out of the training normals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import warnings

from ..errors import ConfigError, DataError, MemAEWarning

__all__ = ["ExperimentData", "build_experiment_data", "infer_architecture", "AUTO_ARCHITECTURE", "IMAGE_DATASETS",
           "TABLE_DATASETS"]

#: ``model.architecture`` value meaning "choose from the data" (what ``memae train`` without --architecture sets).
AUTO_ARCHITECTURE = "auto"
_IMAGE_ARCHITECTURES = {(1, 28, 28): "mnist", (3, 32, 32): "cifar10", (1, 8, 8): "digits"}

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist", "idx", "cifar10", "folder")
TABLE_DATASETS = ("table", "kdd")
#: ``data.protocol`` of the one-class image sets; ``paper`` is also KDD's default (see :func:`kdd_experiment_data`).
IMAGE_PROTOCOLS = ("paper", "official-test")


@dataclass
class ExperimentData:
    """Float32 arrays ready for a model; ``test_labels`` is 1 for anomalies (None when the data has no labels)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray | None
    kind: str  # "image" or "table"
    info: dict[str, Any] = field(default_factory=dict)
    preprocessor_state: dict[str, Any] | None = None  # tables: fitted on training rows, stored in the checkpoint
    test_ids: list[str] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.shape[1:])


def infer_architecture(data: ExperimentData, dataset: str) -> str:
    """The paper architecture that fits the data: ``mnist`` for 1x28x28 images, ``cifar10`` for 3x32x32, ``digits``
    for 8x8, ``kdd`` for KDD Cup 99 and ``mlp`` (hidden widths sized from the columns) for any other table."""
    if data.kind == "table":
        return "kdd" if dataset == "kdd" else "mlp"
    shape = tuple(int(n) for n in data.input_shape)
    if shape in _IMAGE_ARCHITECTURES:
        return _IMAGE_ARCHITECTURES[shape]
    raise ConfigError(f"cannot choose a network for {dataset} images of shape {shape} (C, H, W); pass --architecture "
                      "(mnist takes 1x28x28, cifar10 3x32x32, digits 1x8x8) and for a folder set data.image_size and "
                      "data.grey to match it")


#: Below these sizes a run's numbers are noise (a 12-row table once trained on 5 rows, validated on none, and
#: reported a "best validation loss"); training still runs, with one warning line.
MIN_TRAIN_SAMPLES, MIN_VAL_SAMPLES = 20, 5


def warn_if_tiny(n_train: int, n_val: int, what: str) -> None:
    """One :class:`MemAEWarning` line when the training or validation part is below the minimum sizes."""
    if n_train >= MIN_TRAIN_SAMPLES and n_val >= MIN_VAL_SAMPLES:
        return
    no_val = " (no validation data: epochs are compared by training loss and no validation loss is reported)" if n_val == 0 else ""
    warnings.warn(f"{what}: only {n_train} training and {n_val} validation samples{no_val}; below "
                  f"{MIN_TRAIN_SAMPLES} / {MIN_VAL_SAMPLES} the scores and metrics mean little: use more data",
                  MemAEWarning, stacklevel=3)


def build_experiment_data(data, seed: int = 0) -> ExperimentData:
    """Build the arrays a config's ``data`` section describes (see :class:`memae.config.DataSection`)."""
    dataset = data.dataset.lower()
    if dataset in IMAGE_DATASETS:
        return _image_data(data, seed)
    if dataset in TABLE_DATASETS:
        return _table_data(data, seed)
    raise ConfigError(
        f"unknown dataset {data.dataset!r} for train/evaluate; choose one of {', '.join(IMAGE_DATASETS + TABLE_DATASETS)} "
        "(video benchmarks train with a video config: 'memae train --config video_cpu --data-root DIR')"
    )


def _image_data(data, seed: int) -> ExperimentData:
    from .images import load_image_dataset
    from .splits import official_test_split, one_class_split

    if data.protocol not in IMAGE_PROTOCOLS:
        raise ConfigError(f"data.protocol for images must be one of {', '.join(IMAGE_PROTOCOLS)} (paper: the official "
                          f"train and test images pooled, as the paper's text; official-test: test images from the "
                          f"official test set only), got {data.protocol!r}")
    if data.protocol == "official-test":
        if data.dataset in ("folder", "digits"):
            raise ConfigError(f"data.protocol official-test needs an official train/test split, which {data.dataset!r} "
                              "has not; use data.protocol: paper")
        train_part = load_image_dataset(data.dataset, data.root, "train")
        test_part = load_image_dataset(data.dataset, data.root, "test")
        x = np.concatenate([train_part.images, test_part.images]).astype(np.float32) / 255.0
        class_names = train_part.class_names
        split = official_test_split(train_part.labels, test_part.labels, data.normal_class, seed,
                                    anomaly_fraction=data.anomaly_fraction, val_fraction=data.val_fraction)
    else:
        kwargs = {}
        if data.dataset == "folder":
            kwargs = {"mode": "grey" if data.grey else "rgb", "size": tuple(data.image_size) if data.image_size else None}
        images = load_image_dataset(data.dataset, data.root, "all", **kwargs)
        x = images.images.astype(np.float32) / 255.0  # (N, C, H, W) in [0, 1]
        class_names = images.class_names
        if getattr(images, "prelabelled_anomalies", False):
            return _prelabelled_image_data(data, x, images.labels, seed)
        split = one_class_split(images.labels, data.normal_class, seed, anomaly_fraction=data.anomaly_fraction,
                                val_fraction=data.val_fraction)
    warn_if_tiny(len(split.train_idx), len(split.val_idx), f"{data.dataset} class {data.normal_class}")
    info = {
        "dataset": data.dataset,
        "protocol": data.protocol,
        "normal_class": int(data.normal_class),
        "class_name": class_names[data.normal_class],
        "n_train": int(len(split.train_idx)),
        "n_val": int(len(split.val_idx)),
        "n_test": int(len(split.test_idx)),
        "test_anomaly_share": split.anomaly_share,
    }
    return ExperimentData(
        x[split.train_idx], x[split.val_idx], x[split.test_idx], split.test_is_anomaly.copy(), "image", info
    )


def _prelabelled_image_data(data, x: np.ndarray, labels: np.ndarray, seed: int) -> ExperimentData:
    """normal/ and anomalous/ folders: train on a 2/3 share of the normals, test on the rest plus all anomalies."""
    from .splits import prelabelled_split

    split = prelabelled_split(labels == 1, seed, data.val_fraction)
    return ExperimentData(
        x[split.train_idx], x[split.val_idx], x[split.test_idx], split.test_is_anomaly, "image",
        {"dataset": data.dataset, "protocol": "normal/anomalous folders"},
    )


# Label values memae reads without being told which one is the anomaly (compared lower-case).  Anything else --
# "B"/"M", "normal"/"malignant", 0/1/2 -- is an error that asks for --anomaly-label, because guessing "normal" for
# unknown words once trained on every anomalous row without a word.
ANOMALY_WORDS = {"1", "true", "yes", "anomaly", "anomalous", "abnormal", "outlier", "attack"}
NORMAL_WORDS = {"0", "false", "no", "normal", "inlier"}
SKLEARN_WORDS = {"1": False, "-1": True, "1.0": False, "-1.0": True}  # scikit-learn: 1 = inlier, -1 = outlier


def split_label_spec(spec: str | None) -> tuple[str | None, str | None]:
    """``data.label_column`` is ``NAME`` or ``NAME=VALUE`` (``--label-column NAME --anomaly-label VALUE``).

    The anomaly value lives inside ``label_column`` so that ``config.yaml`` and the checkpoint carry it without a
    new config key: ``evaluate`` and ``--resume`` re-create exactly the same split.
    """
    if spec is None or "=" not in str(spec):
        return spec, None
    name, value = str(spec).rsplit("=", 1)
    return name, value


def _value_counts(values: np.ndarray, limit: int = 8) -> str:
    uniq, counts = np.unique(values.astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    shown = [f"{uniq[i]!r} ({counts[i]} rows)" for i in order[:limit]]
    return ", ".join(shown) + (f" and {len(uniq) - limit} more" if len(uniq) > limit else "")


def labels_to_bool(values: np.ndarray, column: str, anomaly_label: str | None = None) -> np.ndarray:
    """Which rows are anomalies, from a label column.

    * ``anomaly_label`` given: rows equal to it (as text, or as a number for numeric columns) are anomalies, every
      other row is normal; the value must occur.
    * otherwise the column must hold a known convention: 0/1 and False/True (1 = anomaly), scikit-learn's 1/-1
      (-1 = anomaly), or the words in :data:`ANOMALY_WORDS` / :data:`NORMAL_WORDS`.  Any other set of values is a
      :class:`DataError` listing the values found.
    """
    values = np.asarray(values)
    if values.dtype.kind in "fc" and np.isnan(values.astype(float)).any() or values.dtype.kind == "O" and any(
            v is None or (isinstance(v, float) and v != v) for v in values):
        raise DataError(f"label column {column!r} has missing values; fill or drop those rows")
    if anomaly_label is not None:
        text = values.astype(str)
        hit = text == str(anomaly_label)
        if values.dtype.kind in "iuf":
            try:
                hit |= values.astype(float) == float(anomaly_label)
            except ValueError:
                pass
        if not hit.any():
            raise DataError(f"--anomaly-label {anomaly_label!r} does not occur in label column {column!r}, which holds "
                            f"{_value_counts(values)}; pass one of those values")
        return hit
    if values.dtype.kind == "b":
        return values.astype(bool)
    text = np.char.lower(np.char.strip(values.astype(str)))
    if values.dtype.kind in "iuf":
        text = np.array([str(int(v)) if float(v).is_integer() else str(v) for v in values.astype(float)])
    found = set(np.unique(text).tolist())
    if found <= set(SKLEARN_WORDS) and {"-1", "-1.0"} & found:  # 1/-1: scikit-learn's inlier/outlier labels
        return np.isin(text, ["-1", "-1.0"])
    if found <= ANOMALY_WORDS | NORMAL_WORDS:
        return np.isin(text, list(ANOMALY_WORDS))
    raise DataError(f"label column {column!r} holds {_value_counts(values)}, which is not a known label convention "
                    "(0/1, True/False, scikit-learn's 1/-1, normal/anomaly); say which value marks an anomaly with "
                    "--anomaly-label VALUE (config: data.label_column: NAME=VALUE)")


def _table_data(data, seed: int) -> ExperimentData:
    if data.root is None:
        raise ConfigError(f"dataset {data.dataset!r} needs data.root (--data-root) pointing at the file")
    if data.dataset == "kdd":
        from .kdd import load_kddcup99

        return kdd_experiment_data(load_kddcup99(data.root), seed, data.val_fraction, data.protocol)
    from .splits import table_split
    from .tables import TablePreprocessor, check_table_cells, read_table, warn_label_like_columns

    label_column, anomaly_label = split_label_spec(data.label_column)
    frame, labels, _ = read_table(data.root, label_column)
    check_table_cells(frame, data.root)  # before the split, so that errors name the file's rows
    if label_column is None:
        warn_label_like_columns(list(frame.columns), data.root)
    is_anomaly = None
    if labels is not None:
        is_anomaly = labels_to_bool(np.asarray(labels), label_column, anomaly_label)
        if is_anomaly.all():
            raise DataError(f"{data.root}: every row of label column {label_column!r} marks an anomaly, so there are "
                            "no normal rows to train on; check the labels or --anomaly-label")
    # labelled: train on the normal rows of a random half, test on the other half; unlabelled: every row both
    train_rows, val_rows, test_rows, test_labels = table_split(len(frame), is_anomaly, seed, data.val_fraction)
    warn_if_tiny(len(train_rows), len(val_rows), str(data.root))
    pre = TablePreprocessor().fit(frame.iloc[train_rows])
    info = {"dataset": "table", "path": str(data.root), "n_train": len(train_rows), "n_val": len(val_rows),
            "n_test": len(test_rows), "n_features": len(pre.get_feature_names_out())}
    return ExperimentData(pre.transform(frame.iloc[train_rows]), pre.transform(frame.iloc[val_rows]),
                          pre.transform(frame.iloc[test_rows]), test_labels, "table", info, pre.state_dict(),
                          [str(i) for i in test_rows])


def kdd_experiment_data(raw, seed: int, val_fraction: float = 0.1, protocol: str = "paper") -> ExperimentData:
    """KDDCUP99 split by one of two protocols (``normal.`` rows are the anomalies in both).

    ``paper`` (the DAGMM paper's text, followed by MemAE): 50 % of all rows at random for training, of which only the
    normal class (attacks) is used; the other 50 % is the test set; min-max scaling fitted on the training rows.

    ``dagmm-code`` (``danieltan07/dagmm``, the source of the shared ``kdd_cup.npz``): a random half of the attack rows
    for training; the test set is the other half plus every ``normal.`` row (about 1/3 anomalies); min-max scaling
    fitted on all attack rows.  Its threshold also differs (see ``memae.experiments.table3``).

    In both, ``val_fraction`` of the training rows are held out for validation (the split:
    :func:`memae.data.splits.kdd_protocol_split`).
    """
    from .kdd import KDDPreprocessor
    from .splits import kdd_protocol_split

    train_rows, val_rows, test_rows, _ = kdd_protocol_split(raw.is_anomaly, seed, val_fraction, protocol)
    scale_rows = train_rows if protocol == "paper" else np.flatnonzero(~raw.is_anomaly)  # dagmm-code: all attacks
    pre = KDDPreprocessor().fit(raw, scale_rows)
    info = {"dataset": "kdd", "protocol": protocol, "n_train": len(train_rows), "n_val": len(val_rows),
            "n_test": len(test_rows), "n_features": len(pre.get_feature_names_out()),
            "test_anomaly_share": float(raw.is_anomaly[test_rows].mean())}
    return ExperimentData(pre.transform(raw, train_rows), pre.transform(raw, val_rows), pre.transform(raw, test_rows),
                          raw.is_anomaly[test_rows].copy(), "table", info, pre.state_dict(),
                          [str(i) for i in test_rows])
