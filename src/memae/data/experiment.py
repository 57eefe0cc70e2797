"""One entry point from a config's ``data`` section to train/validation/test arrays.

Data flows one way: this module reads and splits, the model never sees test labels during training, and the
validation set is always carved out of the training normals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError

__all__ = ["ExperimentData", "build_experiment_data", "IMAGE_DATASETS", "TABLE_DATASETS"]

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist", "idx", "cifar10", "folder")
TABLE_DATASETS = ("table", "kdd")


@dataclass
class ExperimentData:
    """Float32 arrays ready for a model; ``test_labels`` is 1 for anomalies (None when the data has no labels)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray | None
    kind: str  # "image" or "table"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.shape[1:])


def check_finite(array: np.ndarray, what: str) -> np.ndarray:
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DataError(f"{what} has {int(bad.sum())} NaN/inf value(s), first in row {row}; clean or impute the data")
    return array


def _split_val(rng: np.random.Generator, n: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def build_experiment_data(data, seed: int = 0) -> ExperimentData:
    """Build the arrays a config's ``data`` section describes (see :class:`memae.config.DataSection`)."""
    dataset = data.dataset.lower()
    if dataset in IMAGE_DATASETS:
        return _image_data(data, seed)
    if dataset in TABLE_DATASETS:
        return _table_data(data, seed)
    raise ConfigError(
        f"unknown dataset {data.dataset!r} for train/evaluate; choose one of {', '.join(IMAGE_DATASETS + TABLE_DATASETS)} "
        "(video benchmarks run through 'memae reproduce table2')"
    )


def _image_data(data, seed: int) -> ExperimentData:
    from .images import load_image_dataset
    from .one_class import one_class_split

    kwargs = {}
    if data.dataset == "folder":
        kwargs = {"mode": "grey" if data.grey else "rgb", "size": tuple(data.image_size) if data.image_size else None}
    images = load_image_dataset(data.dataset, data.root, "all", **kwargs)
    x = images.images.astype(np.float32) / 255.0  # (N, C, H, W) in [0, 1]
    if getattr(images, "prelabelled_anomalies", False):
        # normal/ and anomalous/ folders: train on a 2/3 share of the normals, test on the rest plus all anomalies.
        rng = np.random.default_rng(seed)
        normal = np.flatnonzero(images.labels == 0)
        normal = normal[rng.permutation(len(normal))]
        n_train = int(round(len(normal) * 2 / 3))
        train_all = normal[:n_train]
        test_idx = np.sort(np.r_[normal[n_train:], np.flatnonzero(images.labels == 1)])
        tr, va = _split_val(rng, len(train_all), data.val_fraction)
        return ExperimentData(
            x[np.sort(train_all[tr])], x[np.sort(train_all[va])], x[test_idx], images.labels[test_idx] == 1, "image",
            {"dataset": data.dataset, "protocol": "normal/anomalous folders"},
        )
    split = one_class_split(
        images.labels, data.normal_class, seed, anomaly_fraction=data.anomaly_fraction, val_fraction=data.val_fraction
    )
    info = {
        "dataset": data.dataset,
        "normal_class": int(data.normal_class),
        "class_name": images.class_names[data.normal_class],
        "n_train": int(len(split.train_idx)),
        "n_val": int(len(split.val_idx)),
        "n_test": int(len(split.test_idx)),
        "test_anomaly_share": split.anomaly_share,
    }
    return ExperimentData(
        x[split.train_idx], x[split.val_idx], x[split.test_idx], split.test_is_anomaly.copy(), "image", info
    )


def _table_data(data, seed: int) -> ExperimentData:
    raise ConfigError("table datasets are not available in this build")  # replaced once the table readers land
