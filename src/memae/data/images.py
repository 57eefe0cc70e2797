"""A dispatcher over the image readers, plus (re-exported from :mod:`memae.data.image_data`) their common type.

Every image reader (:mod:`memae.data.idx`, :mod:`memae.data.cifar`, :mod:`memae.data.image_folder`,
:mod:`memae.data.digits`) returns an :class:`ImageData`: uint8 images in (N, C, H, W) order plus
int64 labels.  Models get float tensors in [0, 1] from :func:`to_float_tensor`.  The readers import the type
from :mod:`memae.data.image_data`, so this module can import them without a cycle.
"""

from __future__ import annotations

import os
from pathlib import Path

from memae.data.image_data import SPLITS, ImageData, check_split, concatenate, to_float_tensor
from memae.errors import ConfigError, UnknownNameError

__all__ = ["DATASET_NAMES", "SPLITS", "ImageData", "check_split", "concatenate", "load_image_dataset",
           "to_float_tensor"]

#: Names accepted by :func:`load_image_dataset` (aliases map onto these).
DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "idx", "cifar10", "folder", "digits")
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "cifar-10": "cifar10"}


def load_image_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    split: str = "all",
    *,
    mode: str | None = None,
    size: tuple[int, int] | None = None,
) -> ImageData:
    """Load an image dataset by name.

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"``, ``"idx"`` (any IDX pair, numeric class names),
        ``"cifar10"``, ``"folder"`` (one sub-folder per class) or ``"digits"`` (scikit-learn's
        embedded 8x8 digits; needs no root).
    root : path, optional
        Folder holding the files (required for all but ``"digits"``).
    split : {"all", "train", "test"}
        ``"all"`` (default) pools the official train and test sets, which is what the MemAE
        one-class protocol splits (see :func:`memae.data.splits.one_class_split`).  Datasets
        without an official split (``"folder"``, ``"digits"``) accept only ``"all"``.
    mode, size : optional
        Only for ``"folder"``: ``"grey"`` or ``"rgb"`` and an (H, W) to resize to.

    Returns
    -------
    ImageData
    """
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in DATASET_NAMES:
        raise UnknownNameError(f"unknown image dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    check_split(split)
    if key != "folder" and (mode is not None or size is not None):
        raise ConfigError(f"options mode/size apply only to the 'folder' dataset, not {key!r}; remove them")
    if key in ("folder", "digits") and split != "all":
        raise ConfigError(f"dataset {key!r} has no official train/test split; use split='all'")
    if key == "digits":
        from memae.data.digits import load_digits_dataset

        return load_digits_dataset()
    if root is None:
        raise ConfigError(f"dataset {key!r} needs a data root; pass --data-root pointing at the folder with its files")
    root = Path(root)
    if key in ("mnist", "fashion-mnist", "idx"):
        from memae.data.idx import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_idx_dataset

        names = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES, "idx": None}[key]
        return load_idx_dataset(root, split, class_names=names)
    if key == "cifar10":
        from memae.data.cifar import load_cifar10

        return load_cifar10(root, split)
    from memae.data.image_folder import load_image_folder

    return load_image_folder(root, mode=mode or "rgb", size=size)
