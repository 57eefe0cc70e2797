"""Per-frame outputs of video scoring: the scores CSV, the regularity plot and the error-map overlay.

``memae score-video`` (:mod:`memae.cli.video`) writes these; they take the arrays of
:func:`memae.scoring.video_stream.score_video` and know nothing about the command line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import atomic_path
from .video import nearest_fill, pixel_error_map

__all__ = ["OVERLAY_VIDEO_SUFFIXES", "OverlayWriter", "write_scores_csv", "plot_regularity"]

OVERLAY_VIDEO_SUFFIXES = {".mp4": ("mp4", "libx264"), ".mkv": ("matroska", "libx264"), ".avi": ("avi", "mpeg4"),
                          ".mov": ("mov", "libx264")}


def write_scores_csv(path: str | Path, scores: np.ndarray, reg: np.ndarray, scored: np.ndarray) -> Path:
    """CSV with one row per frame: ``frame`` (0-based), ``score`` (error), ``regularity`` (1 = normal), ``scored``.

    Frames no clip scores (``scored = 0``: the first and last few in centre mode) carry the nearest scored frame's
    values, so every row has numbers.
    """
    score_f, reg_f = nearest_fill(scores), nearest_fill(reg)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "score", "regularity", "scored"])
        for i, (s, r, k) in enumerate(zip(score_f, reg_f, scored)):
            writer.writerow([i, f"{s:.8g}", f"{r:.6f}", int(k)])
    return Path(path)


def plot_regularity(path: str | Path, reg: np.ndarray, title: str = "regularity",
                    labels: np.ndarray | None = None) -> Path:
    """Line plot of the regularity score per frame (abnormal frames shaded if ``labels`` are given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.8))
    if labels is not None:
        for t in np.flatnonzero(np.asarray(labels, dtype=bool)):
            ax.axvspan(t - 0.5, t + 0.5, color="tab:red", alpha=0.15, lw=0)
    ax.plot(np.arange(len(reg)), reg, lw=1.2, color="tab:blue")
    ax.set(xlabel="frame", ylabel="regularity score", ylim=(-0.02, 1.02), xlim=(0, max(len(reg) - 1, 1)), title=title)
    ax.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


class OverlayWriter:
    """Blend each frame with its error map (inferno colours) and write a video (PyAV) or PNGs, one frame at a time.

    Use it as the ``on_frame`` callback of :func:`memae.scoring.video_stream.score_video`; call :meth:`close` at the
    end (or :meth:`abort` on failure, which removes a half-written video).  Video files are written to a temporary
    name and renamed on :meth:`close`.
    """

    def __init__(self, target: str | Path, vmax: float = 0.5, alpha: float = 0.5, fps: int = 10) -> None:
        self.target = Path(target)
        self.vmax, self.alpha, self.fps = float(vmax), float(alpha), int(fps)
        if self.vmax <= 0:
            raise DataError(f"--overlay-max must be > 0, got {vmax}")
        suffix = self.target.suffix.lower()
        self.is_video = suffix in OVERLAY_VIDEO_SUFFIXES
        if not self.is_video and suffix:
            raise DataError(f"{self.target}: overlay must be a video ({', '.join(OVERLAY_VIDEO_SUFFIXES)}) or a folder "
                            "(a path without a suffix) for PNG frames")
        self._container = self._stream = None
        self._tmp: Path | None = None
        import matplotlib

        self._cmap = matplotlib.colormaps["inferno"]
        if not self.is_video:
            self.target.mkdir(parents=True, exist_ok=True)

    def __call__(self, index: int, frame: np.ndarray, error_map: np.ndarray | None, clip_error: float | None) -> None:
        rgb = self.blend(frame, error_map)
        if self.is_video:
            self._write_video_frame(rgb)
        else:
            from PIL import Image

            Image.fromarray(rgb).save(self.target / f"{index:06d}.png")

    def blend(self, frame: np.ndarray, error_map: np.ndarray | None) -> np.ndarray:
        """``(H, W, 3)`` uint8: the grey frame, with the colour-mapped error map blended in where there is one."""
        grey = np.repeat(frame[..., None], 3, axis=2).astype(np.float32)
        if error_map is None:
            return grey.astype(np.uint8)
        emap = pixel_error_map(error_map, frame.shape[:2])
        strength = np.clip(emap / self.vmax, 0.0, 1.0)
        colour = self._cmap(strength)[..., :3].astype(np.float32) * 255.0
        weight = (self.alpha * strength)[..., None]  # blend by error: normal regions stay as they were
        return np.clip(grey * (1.0 - weight) + colour * weight, 0, 255).astype(np.uint8)

    def _write_video_frame(self, rgb: np.ndarray) -> None:
        import av

        h, w = rgb.shape[:2]
        if self._container is None:
            fmt, codec = OVERLAY_VIDEO_SUFFIXES[self.target.suffix.lower()]
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = self.target.with_name(f".{self.target.name}.tmp{self.target.suffix}")
            self._container = av.open(str(self._tmp), "w", format=fmt)
            try:
                self._stream = self._container.add_stream(codec, rate=self.fps)
            except (av.error.FFmpegError, ValueError):  # no libx264 in this FFmpeg build
                self._stream = self._container.add_stream("mpeg4", rate=self.fps)
            self._stream.width, self._stream.height = w + (w % 2), h + (h % 2)  # yuv420p needs even sizes
            self._stream.pix_fmt = "yuv420p"
        if h % 2 or w % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None
        self._tmp.replace(self.target)

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - already failing; only clean up
                pass
            self._container = None
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
