"""The in-memory image dataset type every image reader returns, and its conversion to float tensors.

:class:`ImageData` holds uint8 images in (N, C, H, W) order plus int64 labels; :func:`to_float_tensor` turns the
images into float32 tensors in [0, 1].  The readers (:mod:`memae.data.idx`, :mod:`memae.data.cifar`,
:mod:`memae.data.image_folder`, :mod:`memae.data.digits`) import this module; :mod:`memae.data.images` dispatches
over them by dataset name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memae.errors import ConfigError, DataError

__all__ = ["SPLITS", "ImageData", "check_split", "concatenate", "to_float_tensor"]

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
