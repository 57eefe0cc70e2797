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
import warnings
from pathlib import Path
from typing import Any

from ..errors import DataError, MemAEError, MemAEWarning

__all__ = ["add_score_video_parser", "cmd_score_video"]


def add_score_video_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``score-video`` to the ``memae`` command's sub-commands; sets ``func`` to :func:`cmd_score_video`."""
    p = subparsers.add_parser(
        "score-video", help="per-frame anomaly scores of a video with a trained video checkpoint",
        description="Score every frame of a video (file or folder of frames) with a checkpoint of the 'video' "
                    "architecture; streams the video, so any length fits in memory.")
    p.add_argument("checkpoint", help="best.pt of a video run, or its folder: a run folder of memae reproduce table2, "
                                      "table4 or fig7 with one method, or one of its method folders")
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
    p.add_argument("--on-damage", choices=("warn", "error"), default="warn",
                   help="a video that lost frames (truncated or corrupt file): 'warn' (default) scores what remains, "
                        "prints a warning line naming each gap and marks lost frames missing=1 in the CSV (a partial "
                        "result); 'error' stops with exit 1 and writes nothing")
    p.set_defaults(func=cmd_score_video)
    return p


def cmd_score_video(args: argparse.Namespace) -> int:
    from ..data.video import open_video
    from ..scoring.video import regularity
    from ..scoring.video_output import OverlayWriter, overlay_scale, plot_regularity, write_scores_csv
    from ..scoring.video_stream import model_clip_shape, score_video
    from ..training import load_checkpoint, load_model, resolve_device

    from .checks import check_output_dir, check_output_file

    if args.batch_size < 1:
        raise MemAEError(f"--batch-size must be >= 1, got {args.batch_size}")
    check_output_file(args.out, "--out")  # every output path before any decoding: a bad --plot once cost the CSV
    check_output_file(args.plot, "--plot")
    if args.overlay and Path(args.overlay).suffix:
        check_output_file(args.overlay, "--overlay")
    else:
        check_output_dir(args.overlay, "--overlay")
    video_path = Path(args.video)
    if video_path.is_dir():
        from ..data.video import IMAGE_SUFFIXES, has_frame_images

        if not has_frame_images(video_path):  # the library's message speaks of a dataset's data root
            raise DataError(f"{video_path}: this folder holds no frame images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                            "pass a video file or a folder of frames")
    from ..training.checkpoint import resolve_checkpoint

    device = resolve_device(args.device)
    checkpoint = resolve_checkpoint(args.checkpoint)  # a run folder stands for the best.pt inside it
    state = load_checkpoint(checkpoint)
    model = load_model(checkpoint, device, state=state)
    clip_len, frame_size = model_clip_shape(model)
    stored: dict[str, Any] = state.get("config") or {}
    score_cfg, data_cfg = stored.get("score") or {}, stored.get("data") or {}
    error = args.error or score_cfg.get("error") or "mae"
    mode = args.mode or score_cfg.get("mode") or "center"
    resample = data_cfg.get("resample") or "bilinear"
    source = open_video(args.video)
    overlay = None
    if args.overlay:
        vmin, vmax = overlay_scale(state, error, args.overlay_max)
        overlay = OverlayWriter(args.overlay, vmax=vmax, vmin=vmin, fps=getattr(source, "fps", None) or 10)
    try:
        result = score_video(model, source, frame_size, clip_len, error=error, mode=mode, batch_size=args.batch_size,
                             device=device, resample=resample, on_frame=overlay, progress=not args.no_progress)
    except BaseException:
        if overlay is not None:
            overlay.abort()
        raise
    damage = result.damage
    if damage is not None and args.on_damage == "error":
        if overlay is not None:
            overlay.abort()
        raise DataError(f"{damage.summary()}; nothing written (--on-damage warn scores the frames that remain)")
    if overlay is not None:
        overlay.close()
    reg = regularity(result.scores)
    total = damage.expected if damage is not None else result.num_frames
    out = write_scores_csv(args.out, result.scores, reg, result.scored, frame_index=result.frame_index, total=total)
    partial = f" (partial: {damage.lost} of {total} frames lost, marked missing=1)" if damage is not None else ""
    if damage is not None:
        warnings.warn(f"{damage.summary()}; frame numbers follow the source's timestamps and lost frames are rows "
                      "with missing=1 in the CSV", MemAEWarning, stacklevel=1)
    from ..scoring.distribution import DISTRIBUTION_KEY, check_distribution

    check = check_distribution(result.scores, (state.get("extra") or {}).get(DISTRIBUTION_KEY), error)
    if check is not None and check.out_of_distribution:
        warnings.warn(check.warning(source.name), MemAEWarning, stacklevel=1)
    print(f"{result.num_frames} frames scored ({int(result.scored.sum())} by a centred clip, {error}, {mode} mode)"
          f"{partial}; scores written to {out}")
    if check is not None:
        print(check.summary() + ("  OUT OF DISTRIBUTION" if check.out_of_distribution else ""))
    if args.plot:
        plot_regularity(args.plot, reg, title=f"{source.name}: regularity ({error}, {mode})",
                        frame_index=result.frame_index, lost=damage.gaps if damage is not None else None,
                        raw=result.scores, check=check)
        print(f"regularity plot written to {args.plot}")
    if overlay is not None:
        print(f"overlay written to {args.overlay}")
    return 0
