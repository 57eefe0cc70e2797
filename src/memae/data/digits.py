"""scikit-learn's embedded 8x8 handwritten digits as an :class:`ImageData` (no files needed).

Useful for quick, download-free runs and tests: 1797 images, 10 classes, values 0..16 in the
source, scaled here to 0..255.
"""

from __future__ import annotations

import numpy as np

from memae.data.image_data import ImageData

DIGITS_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))


def load_digits_dataset() -> ImageData:
    """Load ``sklearn.datasets.load_digits``.

    Returns
    -------
    ImageData
        images (1797, 1, 8, 8) uint8 (source value v mapped to round(v * 255 / 16)), labels (1797,) int64.
    """
    from sklearn.datasets import load_digits  # local import: scikit-learn is slow to import

    bunch = load_digits()
    images = np.rint(np.asarray(bunch.images, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    return ImageData(images[:, None], labels, DIGITS_CLASSES)
