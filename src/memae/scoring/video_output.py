"""Per-frame outputs of video scoring: the scores CSV, the regularity plot, the error-map overlay, the events CSV
and, for streams, :class:`LiveWriter` (rows and events written as they happen).

``memae score-video`` (:mod:`memae.cli.video`) writes these; they take the arrays of
:func:`memae.scoring.video_stream.score_video` and know nothing about the command line.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import atomic_path
from .heatmaps import HEATMAP_SMOOTH, heatmap, pixel_error_map
from .video import nearest_fill

__all__ = ["OVERLAY_VIDEO_SUFFIXES", "DEFAULT_OVERLAY_MAX", "OverlayWriter", "overlay_scale", "write_scores_csv",
           "plot_regularity", "write_events_csv", "LiveWriter", "PeakHeatmaps"]

OVERLAY_VIDEO_SUFFIXES = {".mp4": ("mp4", "libx264"), ".mkv": ("matroska", "libx264"), ".avi": ("avi", "mpeg4"),
                          ".mov": ("mov", "libx264")}
DEFAULT_OVERLAY_MAX = {"mae": 0.5, "mse": 0.25}  # error (in [-1, 1] pixel units) shown at full colour


def overlay_scale(state: dict[str, Any], error: str, overlay_max: float | None) -> tuple[float, float]:
    """Colour scale of the overlay: from the validation errors' 99.9th percentile (the usual error of training-like
    scenes, left uncoloured) to that plus the default span, so that only unusual regions light up.  Checkpoints
    without a stored distribution, or a given --overlay-max, keep the fixed 0-to-max scale."""
    from .distribution import DISTRIBUTION_KEY, OOD_PERCENTILE

    span = DEFAULT_OVERLAY_MAX[error]
    stored = (state.get("extra") or {}).get(DISTRIBUTION_KEY) or {}
    if overlay_max is not None or stored.get("error") != error or not stored.get("percentiles"):
        return 0.0, overlay_max if overlay_max is not None else span
    vmin = float(stored["percentiles"][f"{OOD_PERCENTILE:g}"])
    return vmin, vmin + span


def write_scores_csv(path: str | Path, scores: np.ndarray, reg: np.ndarray, scored: np.ndarray, *,
                     frame_index: np.ndarray | None = None, total: int | None = None) -> Path:
    """CSV with one row per source frame: ``frame`` (0-based), ``score`` (error), ``regularity`` (1 = normal),
    ``scored``, ``missing``.

    Frames no clip scores (``scored = 0``: the first and last few in centre mode) carry the nearest scored frame's
    values, so every decoded frame has numbers.  ``frame_index`` maps decoded frames to source frames: frames the
    source lost (a damaged file) get a row with empty score and regularity and ``missing = 1``, so that every row's
    ``frame`` names the source's frame, however much was lost before it.
    """


    score_f, reg_f = nearest_fill(scores), nearest_fill(reg)
    index = np.arange(len(score_f)) if frame_index is None else np.asarray(frame_index, dtype=np.int64)
    total = int(max(total or 0, index[-1] + 1 if len(index) else 0))
    where = np.full(total, -1, dtype=np.int64)
    where[index] = np.arange(len(index))
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "score", "regularity", "scored", "missing"])
        for frame, i in enumerate(where):
            if i < 0:
                writer.writerow([frame, "", "", 0, 1])
            else:
                writer.writerow([frame, f"{score_f[i]:.8g}", f"{reg_f[i]:.6f}", int(scored[i]), 0])
    return Path(path)


def plot_regularity(path: str | Path, reg: np.ndarray, title: str = "regularity",
                    labels: np.ndarray | None = None, *, frame_index: np.ndarray | None = None,
                    lost: list[tuple[int, int]] | None = None, raw: np.ndarray | None = None,
                    check: Any = None) -> Path:
    """Line plot of the regularity score per frame (abnormal frames shaded if ``labels`` are given).

    ``frame_index``: source frame of each value (a damaged video skips lost frames); ``lost``: ``(first, last)``
    runs of lost frames, hatched grey so that a gap never looks like a smooth stretch of video.  ``raw``: the raw
    errors, drawn on a second axis with the validation errors' 99.9th percentile from ``check``
    (:class:`memae.scoring.distribution.DistributionCheck`); out-of-distribution input is labelled on the plot.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt



    fig, ax = plt.subplots(figsize=(7, 2.8))
    if labels is not None:
        for t in np.flatnonzero(np.asarray(labels, dtype=bool)):
            ax.axvspan(t - 0.5, t + 0.5, color="tab:red", alpha=0.15, lw=0)
    x = np.arange(len(reg)) if frame_index is None else np.asarray(frame_index)
    y = np.asarray(reg, dtype=np.float64).copy()
    if len(x) > 1:  # break the line across lost frames instead of drawing a straight segment over them
        jumps = np.flatnonzero(np.diff(x) > 1)
        x = np.insert(x.astype(np.float64), jumps + 1, np.nan)
        y = np.insert(y, jumps + 1, np.nan)
    for first, last in lost or []:
        ax.axvspan(first - 0.5, last + 0.5, color="0.6", alpha=0.3, lw=0, hatch="//",
                   label="lost frames" if first == lost[0][0] else None)
    ax.plot(x, y, lw=1.2, color="tab:blue")
    x_max = max(int(np.nanmax(x)) if len(x) else 0, max((b for _, b in lost or []), default=0), 1)
    ax.set(xlabel="frame", ylabel="regularity score", ylim=(-0.02, 1.02), xlim=(0, x_max), title=title)
    if lost:
        ax.legend(loc="lower left", fontsize=8)
    if raw is not None:  # the raw scale: normalisation alone makes any input look like an ordinary video
        raw_y = np.asarray(raw, dtype=np.float64).copy()
        if len(raw_y) > 1 and frame_index is not None:
            raw_y = np.insert(raw_y, np.flatnonzero(np.diff(np.asarray(frame_index)) > 1) + 1, np.nan)
        ax2 = ax.twinx()
        ax2.plot(x, raw_y, lw=0.8, color="tab:orange", alpha=0.7)
        ax2.set_ylabel("raw error", color="tab:orange")
        if check is not None:
            ax2.axhline(check.reference, color="tab:orange", ls="--", lw=0.8)
            top = max(float(np.nanmax(raw_y)) if np.isfinite(raw_y).any() else 0.0, check.reference) * 1.05
            ax2.set_ylim(0, top)
            ax2.text(0.99, check.reference, " validation 99.9th pct", color="tab:orange", fontsize=7,
                     ha="right", va="bottom", transform=ax2.get_yaxis_transform())
            if check.out_of_distribution:
                ax.text(0.5, 0.5, f"OUT OF DISTRIBUTION\nmedian error {check.ratio:.1f}x the validation 99.9th pct",
                        transform=ax.transAxes, ha="center", va="center", color="tab:red", fontsize=12,
                        alpha=0.8, fontweight="bold")
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

    def __init__(self, target: str | Path, vmax: float = 0.5, alpha: float = 0.5, fps: float = 10,
                 vmin: float = 0.0) -> None:
        from fractions import Fraction

        self.target = Path(target)
        self.vmin = float(vmin)  # errors up to here (the training data's usual level) get no colour
        # the source's frame rate (29.97 = 30000/1001 stays exact), so the overlay plays at the video's speed
        self.vmax, self.alpha, self.fps = float(vmax), float(alpha), Fraction(fps).limit_denominator(65535)  # mpeg4 limit
        if self.vmax <= max(self.vmin, 0.0):
            raise DataError(f"--overlay-max must be > {max(self.vmin, 0.0):g}, got {vmax}")
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
        strength = np.clip((emap - self.vmin) / (self.vmax - self.vmin), 0.0, 1.0)
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


def write_events_csv(path: str | Path, events: list[Any], fps: float | None) -> Path:
    """The events CSV (atomic): ``start_frame,end_frame,start_s,end_s,peak_score,peak_frame``, one event per row
    (:class:`memae.scoring.events.Event`); seconds are empty when the video gives no frame rate."""
    from .events import EVENT_COLUMNS

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
        writer.writeheader()
        writer.writerows(event.row(fps) for event in events)
    return Path(path)


class LiveWriter:
    """Score rows and events written as they happen, for a stream (stdin or a URL) that has no end to wait for.

    Use it as (part of) the ``on_frame`` callback of :func:`memae.scoring.video_stream.score_video` in centre mode:
    each frame's row is appended and flushed at once (``frame,score,regularity,scored,missing``; ``regularity`` is
    empty, since per-video min-max needs the whole video, and so is the score of a frame no clip is centred on), and
    each event is appended to the events CSV the moment it closes.  The files grow in place: a reader sees every row
    written so far, and nothing is renamed at the end.
    """

    def __init__(self, scores_path: str | Path, tracker: Any = None, events_path: str | Path | None = None,
                 fps: float | None = None) -> None:
        from .events import EVENT_COLUMNS

        self.tracker, self.fps, self.frames = tracker, fps, 0
        Path(scores_path).parent.mkdir(parents=True, exist_ok=True)
        self._scores = open(scores_path, "w", newline="", encoding="utf-8")
        self._rows = csv.writer(self._scores)
        self._rows.writerow(["frame", "score", "regularity", "scored", "missing"])
        self._events = self._event_rows = None
        if events_path is not None:
            Path(events_path).parent.mkdir(parents=True, exist_ok=True)
            self._events = open(events_path, "w", newline="", encoding="utf-8")
            self._event_rows = csv.DictWriter(self._events, fieldnames=EVENT_COLUMNS)
            self._event_rows.writeheader()
            self._events.flush()
        self._scores.flush()

    def __call__(self, index: int, frame: np.ndarray, error_map: np.ndarray | None, clip_error: float | None) -> None:
        self.frames = index + 1
        scored = clip_error is not None
        self._rows.writerow([index, f"{clip_error:.8g}" if scored else "", "", int(scored), 0])
        self._scores.flush()
        if self.tracker is not None:
            self._write(self.tracker.push(index, clip_error))

    def _write(self, events: list[Any]) -> None:
        if self._event_rows is not None and events:
            self._event_rows.writerows(event.row(self.fps) for event in events)
            self._events.flush()

    def close(self) -> None:
        """Close the last open event and the files."""
        if self.tracker is not None:
            self._write(self.tracker.finish())
        for handle in (self._scores, self._events):
            if handle is not None and not handle.closed:
                handle.close()


class PeakHeatmaps:
    """PNG error maps of event peaks: the peak frame with its error map, smoothed, upsampled and colour-blended.

    Use it as (part of) the ``on_frame`` callback of :func:`memae.scoring.video_stream.score_video`.  A shadow
    :class:`memae.scoring.events.EventTracker` follows the scores; of each open run only the peak's error map and
    frame are kept (one per event in memory, never one per frame).  :meth:`write` draws the maps of the final events
    (``event_001_frame000056.png``); with ``live=True`` each is drawn as soon as its event closes (streams).
    """

    def __init__(self, folder: str | Path, tracker: Any, vmin: float, vmax: float, smooth: float = HEATMAP_SMOOTH,
                 live: bool = False) -> None:
        self.folder, self.tracker, self.smooth, self.live = Path(folder), tracker, float(smooth), live
        self.vmin, self.vmax = vmin, vmax
        self._candidate: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # peak frame of the open run -> (frame, map)
        self.kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.written: list[Path] = []
        self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, index: int, frame: np.ndarray, error_map: np.ndarray | None, clip_error: float | None) -> None:
        for event in self.tracker.push(index, clip_error):  # closed runs first: this frame may open the next one
            self._keep(event)
        run = self.tracker._open
        if run is not None and run.peak_frame == index and error_map is not None:
            self._candidate = {index: (frame.copy(), np.array(error_map, dtype=np.float32))}

    def _keep(self, event: Any) -> None:
        if event.peak_frame in self._candidate:
            self.kept[event.peak_frame] = self._candidate.pop(event.peak_frame)
            if self.live:
                self.write([event], start=len(self.written))

    def finish(self) -> None:
        for event in self.tracker.finish():
            self._keep(event)

    def write(self, events: list[Any], start: int = 0) -> list[Path]:
        """One PNG per event whose peak map was kept; returns the files written."""
        from PIL import Image

        import matplotlib

        cmap = matplotlib.colormaps["inferno"]
        paths = []
        for k, event in enumerate(events, start=start + 1):
            if event.peak_frame not in self.kept:
                continue
            frame, emap = self.kept[event.peak_frame]
            big = heatmap(emap, frame.shape[:2], self.smooth)  # smoothed, model resolution -> the source's
            strength = np.clip((big - self.vmin) / max(self.vmax - self.vmin, 1e-12), 0.0, 1.0)
            grey = np.repeat(frame[..., None], 3, axis=2).astype(np.float32)
            colour = cmap(strength)[..., :3].astype(np.float32) * 255.0
            weight = (0.6 * strength)[..., None]
            rgb = np.clip(grey * (1.0 - weight) + colour * weight, 0, 255).astype(np.uint8)
            path = self.folder / f"event_{k:03d}_frame{event.peak_frame:06d}.png"
            with atomic_path(path) as tmp:
                Image.fromarray(rgb).save(tmp, format="PNG")
            paths.append(path)
        self.written += paths
        return paths
