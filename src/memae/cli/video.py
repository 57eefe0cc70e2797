"""``memae score-video``: per-frame anomaly scores of one video with a trained video checkpoint.

Writes ``frame,score,regularity,scored`` rows (CSV, atomic), optionally a regularity plot and an overlay of the
per-pixel error map on the frames (a video through PyAV, or a folder of PNGs).  The frame size and clip length come
from the checkpoint's model; the error (``mae``/``mse``) and resampling default to the ones it was trained with.

Example::

    memae score-video runs/table2-ped2-cpu-.../memae-seed1/best.pt Test001.avi --out scores.csv \\
        --plot regularity.png --overlay overlay.mp4
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import MemAEError

__all__ = ["add_score_video_parser", "cmd_score_video"]

DEFAULT_OVERLAY_MAX = {"mae": 0.5, "mse": 0.25}  # error (in [-1, 1] pixel units) shown at full colour


def add_score_video_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``score-video`` to the ``memae`` command's sub-commands; sets ``func`` to :func:`cmd_score_video`."""
    p = subparsers.add_parser(
        "score-video", help="per-frame anomaly scores of a video with a trained video checkpoint",
        description="Score every frame of a video (file or folder of frames) with a checkpoint of the 'video' "
                    "architecture; streams the video, so any length fits in memory.")
    p.add_argument("checkpoint", help="best.pt of a video run (a method folder of memae reproduce table2, table4 or fig7)")
    p.add_argument("video", help="video file (mp4, avi, mkv, ...) or folder of frame images")
    p.add_argument("--out", required=True, help="CSV to write: frame, score, regularity, scored")
    p.add_argument("--plot", help="PNG of the regularity curve")
    p.add_argument("--overlay", help="overlay of the error map on the frames: a video (.mp4/.mkv/.avi) or a folder for PNGs")
    p.add_argument("--overlay-max", type=float,
                   help="error shown at full colour in the overlay (default 0.5 for mae, 0.25 for mse)")
    p.add_argument("--mode", choices=("center", "mean"), help="frame score: the clip's centre frame (default) or the mean of all clips")
    p.add_argument("--error", choices=("mae", "mse"), help="per-clip error (default: the checkpoint's)")
    p.add_argument("--batch-size", type=int, default=8, help="clips per model call (default 8)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score_video)
    return p


def cmd_score_video(args: argparse.Namespace) -> int:
    from ..data.video import open_video
    from ..scoring.video import regularity
    from ..scoring.video_output import OverlayWriter, plot_regularity, write_scores_csv
    from ..scoring.video_stream import model_clip_shape, score_video
    from ..training import load_checkpoint, load_model, resolve_device

    if args.batch_size < 1:
        raise MemAEError(f"--batch-size must be >= 1, got {args.batch_size}")
    device = resolve_device(args.device)
    state = load_checkpoint(args.checkpoint)
    model = load_model(args.checkpoint, device, state=state)
    clip_len, frame_size = model_clip_shape(model)
    stored: dict[str, Any] = state.get("config") or {}
    score_cfg, data_cfg = stored.get("score") or {}, stored.get("data") or {}
    error = args.error or score_cfg.get("error") or "mae"
    mode = args.mode or score_cfg.get("mode") or "center"
    resample = data_cfg.get("resample") or "bilinear"
    source = open_video(args.video)
    overlay = None
    if args.overlay:
        vmax = args.overlay_max if args.overlay_max is not None else DEFAULT_OVERLAY_MAX[error]
        overlay = OverlayWriter(args.overlay, vmax=vmax)
    try:
        result = score_video(model, source, frame_size, clip_len, error=error, mode=mode, batch_size=args.batch_size,
                             device=device, resample=resample, on_frame=overlay, progress=not args.no_progress)
    except BaseException:
        if overlay is not None:
            overlay.abort()
        raise
    if overlay is not None:
        overlay.close()
    reg = regularity(result.scores)
    out = write_scores_csv(args.out, result.scores, reg, result.scored)
    print(f"{result.num_frames} frames scored ({int(result.scored.sum())} by a centred clip, {error}, {mode} mode); "
          f"scores written to {out}")
    if args.plot:
        plot_regularity(args.plot, reg, title=f"{source.name}: regularity ({error}, {mode})")
        print(f"regularity plot written to {args.plot}")
    if overlay is not None:
        print(f"overlay written to {args.overlay}")
    return 0
