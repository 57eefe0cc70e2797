"""Per-pixel error maps as pictures: upsampled (:func:`pixel_error_map`) and smoothed (:func:`heatmap`) the way
``memae score-video --heatmaps`` draws them and the pixel-level metrics read them."""

from __future__ import annotations

import numpy as np

from memae.errors import DataError


def pixel_error_map(
    errors: np.ndarray, out_size: tuple[int, int], resample: str = "bilinear"
) -> np.ndarray:
    """Upsample an error map ``(h, w)`` or a stack ``(T, h, w)`` to ``out_size = (H, W)`` (for figures).

    Uses Pillow's float ("F") images; returns float32 ``(H, W)`` or ``(T, H, W)``.
    """
    from PIL import Image

    filters = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST,
               "bicubic": Image.Resampling.BICUBIC}
    if resample not in filters:
        raise DataError(f"resample must be one of {', '.join(filters)}, got {resample!r}")
    e = np.asarray(errors, dtype=np.float32)
    if e.ndim not in (2, 3):
        raise DataError(f"expected an error map (h, w) or (T, h, w), got shape {e.shape}")
    H, W = (int(v) for v in out_size)
    if H < 1 or W < 1:
        raise DataError(f"out_size must be positive (H, W), got {out_size!r}")
    frames = e[None] if e.ndim == 2 else e
    out = np.stack([
        np.asarray(Image.fromarray(np.ascontiguousarray(f)).resize((W, H), filters[resample]))
        for f in frames
    ]).astype(np.float32)
    return out[0] if e.ndim == 2 else out


HEATMAP_SMOOTH = 1.0  # sigma, in model pixels, of the Gaussian that --heatmaps PNGs and the pixel metrics apply


def heatmap(error_map: np.ndarray, out_size: tuple[int, int], smooth: float = HEATMAP_SMOOTH) -> np.ndarray:
    """A per-pixel error map ``(h, w)`` at model resolution as ``memae score-video --heatmaps`` draws it: Gaussian
    smoothing (``smooth`` = sigma in model pixels; 0 = none), then bilinear upsampling to ``out_size = (H, W)``.

    Returns float32 ``(H, W)``.
    """
    emap = np.asarray(error_map, dtype=np.float32)
    if emap.ndim != 2:
        raise DataError(f"expected one error map (h, w), got shape {emap.shape}")
    if smooth > 0:
        from scipy.ndimage import gaussian_filter

        emap = gaussian_filter(emap, smooth)
    if emap.shape == tuple(int(v) for v in out_size):
        return emap
    return pixel_error_map(emap, out_size)
