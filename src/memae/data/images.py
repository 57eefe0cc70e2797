"""The common in-memory image dataset type and a dispatcher over the image readers.

Every image reader (:mod:`memae.data.idx`, :mod:`memae.data.cifar`, :mod:`memae.data.image_folder`,
:mod:`memae.data.digits`) returns an :class:`ImageData`: uint8 images in (N, C, H, W) order plus
int64 labels.  Models get float tensors in [0, 1] from :func:`to_float_tensor`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memae.errors import ConfigError, DataError, UnknownNameError

#: Names accepted by :func:`load_image_dataset` (aliases map onto these).
DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "idx", "cifar10", "folder", "digits")
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "cifar-10": "cifar10"}
SPLITS: tuple[str, ...] = ("train", "test", "all")


@dataclass(frozen=True, eq=False)
class ImageData:
    """A labelled image set held in memory.

    Attributes
    ----------
    images : np.ndarray
        (N, C, H, W) uint8, C is 1 (grey) or 3 (RGB).
    labels : np.ndarray
        (N,) int64, each in ``0 .. len(class_names) - 1``.
    class_names : tuple[str, ...]
        Name of each label value.
    prelabelled_anomalies : bool
        True when the source already says which images are anomalous (an image folder with
        ``normal/`` and ``anomalous/``): then label 0 is normal and 1 is anomalous, and the
        one-class-per-run protocol does not apply.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    prelabelled_anomalies: bool = False

    def __post_init__(self) -> None:
        # Validate once here so that every reader (and any caller building one) gets the same checks.
        images, labels = self.images, self.labels
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
            raise DataError(
                f"ImageData.images must be a uint8 array of shape (N, C, H, W), got "
                f"{getattr(images, 'dtype', type(images).__name__)} {getattr(images, 'shape', '')}"
            )
        if images.shape[1] not in (1, 3):
            raise DataError(f"ImageData.images must have 1 or 3 channels in axis 1, got shape {images.shape}")
        if not isinstance(labels, np.ndarray) or labels.dtype != np.int64 or labels.shape != (images.shape[0],):
            raise DataError(
                f"ImageData.labels must be int64 of shape ({images.shape[0]},), got "
                f"{getattr(labels, 'dtype', type(labels).__name__)} {getattr(labels, 'shape', '')}"
            )
        names = tuple(str(n) for n in self.class_names)
        object.__setattr__(self, "class_names", names)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise DataError(
                f"ImageData labels span {labels.min()}..{labels.max()} but there are {len(names)} class names"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, idx: np.ndarray) -> ImageData:
        """The images and labels at ``idx`` (any integer index array), same class names."""
        return ImageData(self.images[idx], self.labels[idx], self.class_names, self.prelabelled_anomalies)


def concatenate(parts: list[ImageData]) -> ImageData:
    """Stack several :class:`ImageData` with the same class names and image shape (e.g. train + test)."""
    if not parts:
        raise DataError("nothing to concatenate: no image sets given")
    first = parts[0]
    for p in parts[1:]:
        if p.class_names != first.class_names or p.shape != first.shape:
            raise DataError(
                f"cannot pool image sets with different classes/shapes: {first.shape} {first.class_names} "
                f"vs {p.shape} {p.class_names}"
            )
    return ImageData(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.labels for p in parts]),
        first.class_names,
        first.prelabelled_anomalies,
    )


def check_split(split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS`, else raise :class:`ConfigError`."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return split


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
        one-class protocol splits (see :func:`memae.data.one_class.one_class_split`).  Datasets
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


def to_float_tensor(images: np.ndarray):  # -> torch.Tensor (import kept lazy: readers need no torch)
    """Convert uint8 images (N, C, H, W) to a float32 torch tensor in [0, 1] of the same shape."""
    import torch

    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(
            f"to_float_tensor expects uint8 images of shape (N, C, H, W), got "
            f"{getattr(images, 'dtype', type(images).__name__)} {getattr(images, 'shape', '')}"
        )
    # torch.tensor copies, so read-only arrays (np.frombuffer) are fine and the result owns its memory.
    return torch.tensor(images, dtype=torch.float32).div_(255.0)
