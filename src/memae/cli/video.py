"""``memae score-video``: per-frame anomaly scores of one video with a trained video checkpoint.

Writes ``frame,score,regularity,scored`` rows (CSV, atomic), optionally a regularity plot and an overlay of the
per-pixel error map on the frames (a video through PyAV, or a folder of PNGs).  ``--events`` / ``--json`` add the
events: runs of frames whose *raw* score is above a threshold set from the validation scores stored in the checkpoint
for a target false-alarm rate (:mod:`memae.scoring.events`).  The video may be ``-`` (standard input) or a URL: then
rows and events are written as they happen (:class:`memae.scoring.video_output.LiveWriter`).  The frame size and clip length come
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
from ..scoring.events import DEFAULT_FALSE_ALARMS_PER_HOUR, DEFAULT_MERGE_GAP_FRAMES, DEFAULT_MIN_EVENT_FRAMES

__all__ = ["add_score_video_parser", "cmd_score_video"]


def add_score_video_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``score-video`` to the ``memae`` command's sub-commands; sets ``func`` to :func:`cmd_score_video`."""
    p = subparsers.add_parser(
        "score-video", help="per-frame anomaly scores of a video with a trained video checkpoint",
        description="Score every frame of a video (file or folder of frames) with a checkpoint of the 'video' "
                    "architecture; streams the video, so any length fits in memory.")
    p.add_argument("checkpoint", help="best.pt of a video run, or its folder: a run folder of memae reproduce table2, "
                                      "table4 or fig7 with one method, or one of its method folders")
    p.add_argument("video", help="video file (mp4, avi, mkv, ...), folder of frame images, '-' for standard input "
                                 "(a streaming container: mkv, MPEG-TS, NUT) or a URL PyAV opens (rtsp://, http://)")
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
    g = p.add_argument_group("events and a calibrated alarm (raw scores against the checkpoint's validation scores)")
    g.add_argument("--events", help="CSV of events: start_frame,end_frame,start_s,end_s,peak_score,peak_frame; an "
                                    "event is a run of frames whose raw score is above the alarm threshold")
    g.add_argument("--json", help="JSON summary: the threshold, how it was set, the event rules and the events")
    how = g.add_mutually_exclusive_group()
    how.add_argument("--false-alarms-per-hour", type=float,
                     help=f"target false-alarm rate on normal footage, converted through the video's frame rate "
                          f"into a quantile of the validation scores (default {DEFAULT_FALSE_ALARMS_PER_HOUR:g})")
    how.add_argument("--alarm-quantile", type=float, help="or: the threshold is this quantile of the validation scores")
    g.add_argument("--min-event-frames", type=int, default=DEFAULT_MIN_EVENT_FRAMES,
                   help=f"shortest event, in frames (default {DEFAULT_MIN_EVENT_FRAMES})")
    g.add_argument("--merge-gap-frames", type=int, default=DEFAULT_MERGE_GAP_FRAMES,
                   help=f"runs at most this many frames apart form one event (default {DEFAULT_MERGE_GAP_FRAMES})")
    g.add_argument("--heatmaps", metavar="DIR", help="a PNG per event: its peak frame with the error map (smoothed, "
                                                     "upsampled to the source resolution) blended in")
    p.set_defaults(func=cmd_score_video)
    return p


def cmd_score_video(args: argparse.Namespace) -> int:
    from ..data.locations import is_stream
    from ..io import check_checkpoint_file, resolve_checkpoint

    # a wrong checkpoint or video path fails in one line before torch and PyAV load (that once took 5-13 s)
    check_checkpoint_file(resolve_checkpoint(args.checkpoint))
    live = is_stream(args.video)
    if not live and not Path(args.video).exists():
        raise DataError(f"{args.video}: no such video file or frame folder; pass a video file, a folder of frames, "
                        "'-' for standard input or a URL")
    from .checks import check_output_dir, check_output_file

    if args.batch_size < 1:
        raise MemAEError(f"--batch-size must be >= 1, got {args.batch_size}")
    check_output_file(args.out, "--out")  # every output path before any decoding: a bad --plot once cost the CSV
    check_output_file(args.plot, "--plot")
    check_output_file(args.events, "--events")
    check_output_file(args.json, "--json")
    check_output_dir(args.heatmaps, "--heatmaps")
    if args.overlay and Path(args.overlay).suffix:
        check_output_file(args.overlay, "--overlay")
    else:
        check_output_dir(args.overlay, "--overlay")
    if live and args.plot:
        raise MemAEError("--plot draws a whole video's regularity; a stream (stdin or a URL) has no end to wait for")
    if live and args.mode == "mean":
        raise MemAEError("a stream is scored in centre mode (a frame's row is written once its clip is scored); "
                         "drop --mode mean")
    video_path = Path(args.video)
    if not live and video_path.is_dir():
        from ..data.video import IMAGE_SUFFIXES, has_frame_images

        if not has_frame_images(video_path):  # the library's message speaks of a dataset's data root
            raise DataError(f"{video_path}: this folder holds no frame images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                            "pass a video file or a folder of frames")
    from ..training.checkpoint import resolve_checkpoint
    from ..training import load_checkpoint, load_model, resolve_device
    from ..scoring.video_stream import model_clip_shape

    device = resolve_device(args.device)
    checkpoint = resolve_checkpoint(args.checkpoint)  # a run folder stands for the best.pt inside it
    state = load_checkpoint(checkpoint)
    model = load_model(checkpoint, device, state=state)
    clip_len, frame_size = model_clip_shape(model)
    stored: dict[str, Any] = state.get("config") or {}
    score_cfg, data_cfg = stored.get("score") or {}, stored.get("data") or {}
    error = args.error or score_cfg.get("error") or "mae"
    mode = "center" if live else args.mode or score_cfg.get("mode") or "center"
    resample = data_cfg.get("resample") or "bilinear"
    source, fps = _open_source(args.video, data_cfg.get("fps"))
    alarm = None
    if args.events or args.json or args.heatmaps:  # the threshold before any decoding: a checkpoint without one fails at once
        from ..scoring.events import alarm_threshold, stored_distribution

        rate = args.false_alarms_per_hour
        if rate is None and args.alarm_quantile is None:
            rate = DEFAULT_FALSE_ALARMS_PER_HOUR
        alarm = alarm_threshold(stored_distribution(state), error, false_alarms_per_hour=rate,
                                quantile=args.alarm_quantile, fps=fps)
        print(alarm.describe())
        if alarm.note:
            warnings.warn(f"alarm: {alarm.note}", MemAEWarning, stacklevel=1)
    common = dict(model=model, frame_size=frame_size, clip_len=clip_len, error=error, batch_size=args.batch_size,
                  device=device, resample=resample, progress=not args.no_progress)
    if live:
        return _score_stream(args, state, source, fps, alarm, common)
    return _score_file(args, state, source, fps, alarm, mode, common)


def _open_source(location: str, trained_fps: float | None) -> tuple[Any, float | None]:
    """The video and the frame rate its rows are at: a file at another rate than the model was trained on
    (``data.fps``) is resampled to it, as training did; frame folders are taken to be at that rate."""
    from ..data.stream import StreamSource, is_stream
    from ..data.video import VideoFile, open_video

    if is_stream(location):
        source = StreamSource(location, trained_fps)
        if source.resample and source.source_fps:
            print(f"{source.name}: {float(source.source_fps):g} fps resampled to {trained_fps:g} fps, the rate the "
                  "model was trained at (frame numbers below are at that rate)")
        return source, float(source.fps) if source.fps else None
    source = open_video(location)
    if trained_fps and isinstance(source, VideoFile) and source.fps and abs(float(source.fps) - trained_fps) > 1e-3:
        from ..data.footage import ResampledVideo

        print(f"{source.name}: {float(source.fps):g} fps resampled to {trained_fps:g} fps, the rate the model was "
              "trained at (frame numbers below are at that rate)")
        return ResampledVideo(source, trained_fps), float(trained_fps)
    own = getattr(source, "fps", None)
    return source, float(own) if own else trained_fps


def _score_stream(args: argparse.Namespace, state: dict[str, Any], source: Any, fps: float | None, alarm: Any,
                  common: dict[str, Any]) -> int:
    """A stream: rows and events are written as they happen (:class:`~memae.scoring.video_output.LiveWriter`)."""
    from ..scoring.events import EventTracker
    from ..scoring.video_output import LiveWriter, OverlayWriter, overlay_scale
    from ..scoring.video_stream import score_video

    tracker = EventTracker(alarm.threshold, args.min_event_frames, args.merge_gap_frames) if alarm else None
    writer = LiveWriter(args.out, tracker, args.events, fps)
    overlay = None
    if args.overlay:
        vmin, vmax = overlay_scale(state, common["error"], args.overlay_max)
        overlay = OverlayWriter(args.overlay, vmax=vmax, vmin=vmin, fps=fps or 10)

    heatmaps = _heatmaps(args, state, alarm, common["error"], live=True)

    def on_frame(index: int, frame: Any, error_map: Any, clip_error: float | None) -> None:
        writer(index, frame, error_map, clip_error)
        for also in (overlay, heatmaps):
            if also is not None:
                also(index, frame, error_map, clip_error)

    try:
        result = score_video(source=source, mode="center", on_frame=on_frame, **common)
    except BaseException:
        writer.close()  # what was written stays: the rows and events up to the failure
        if overlay is not None:
            overlay.abort()
        raise
    writer.close()
    if overlay is not None:
        overlay.close()
    if heatmaps is not None:
        heatmaps.finish()
        print(f"{len(heatmaps.written)} heatmap(s) written to {args.heatmaps}")
    print(f"{result.num_frames} frames scored from {source.name} ({int(result.scored.sum())} by a centred clip, "
          f"{common['error']}); scores written to {args.out}")
    if tracker is not None:
        _report_events(args, alarm, tracker, source.name, result.num_frames)
    return 0


def _heatmaps(args: argparse.Namespace, state: dict[str, Any], alarm: Any, error: str, live: bool) -> Any:
    """The ``--heatmaps`` callback (its colour scale is the overlay's), or None."""
    if not args.heatmaps:
        return None
    from ..scoring.events import EventTracker
    from ..scoring.video_output import PeakHeatmaps, overlay_scale

    vmin, vmax = overlay_scale(state, error, args.overlay_max)
    tracker = EventTracker(alarm.threshold, args.min_event_frames, args.merge_gap_frames)
    return PeakHeatmaps(args.heatmaps, tracker, vmin, vmax, live=live)


def _report_events(args: argparse.Namespace, alarm: Any, tracker: Any, name: str, frames: int) -> None:
    from ..io import write_json
    from ..scoring.events import alarm_summary

    events = tracker.events
    if args.json:
        write_json(args.json, alarm_summary(alarm, events, tracker, name, frames))
    where = [f"events written to {args.events}"] if args.events else []
    where += [f"summary to {args.json}"] if args.json else []
    print(f"{len(events)} event(s) above {alarm.threshold:.6g}" + (f"; {', '.join(where)}" if where else ""))


def _score_file(args: argparse.Namespace, state: dict[str, Any], source: Any, fps: float | None, alarm: Any,
                mode: str, common: dict[str, Any]) -> int:
    from ..scoring.events import EventTracker
    from ..scoring.video import regularity
    from ..scoring.video_output import (
        OverlayWriter,
        overlay_scale,
        plot_regularity,
        write_events_csv,
        write_scores_csv,
    )
    from ..scoring.video_stream import score_video

    error = common["error"]
    overlay = None
    if args.overlay:
        vmin, vmax = overlay_scale(state, error, args.overlay_max)
        overlay = OverlayWriter(args.overlay, vmax=vmax, vmin=vmin, fps=fps or 10)
    heatmaps = _heatmaps(args, state, alarm, error, live=False)
    callbacks = [c for c in (overlay, heatmaps) if c is not None]

    def on_frame(index: int, frame: Any, error_map: Any, clip_error: float | None) -> None:
        for callback in callbacks:
            callback(index, frame, error_map, clip_error)

    try:
        result = score_video(source=source, mode=mode, on_frame=on_frame if callbacks else None, **common)
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
    reg = regularity(result.scores)  # the paper's per-video min-max: only for the regularity column and plot
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
    if alarm is not None:  # raw scores at the source's frame numbers (a lost frame breaks nothing but its own row)
        tracker = EventTracker(alarm.threshold, args.min_event_frames, args.merge_gap_frames)
        for frame, score in zip(result.frame_index.tolist(), result.scores.tolist()):
            tracker.push(frame, score)
        tracker.finish()
        if args.events:
            write_events_csv(args.events, tracker.events, fps)
        _report_events(args, alarm, tracker, source.name, total)
        if heatmaps is not None:
            heatmaps.finish()
            print(f"{len(heatmaps.write(tracker.events))} heatmap(s) written to {args.heatmaps}")
    if args.plot:
        plot_regularity(args.plot, reg, title=f"{source.name}: regularity ({error}, {mode})",
                        frame_index=result.frame_index, lost=damage.gaps if damage is not None else None,
                        raw=result.scores, check=check)
        print(f"regularity plot written to {args.plot}")
    if overlay is not None:
        print(f"overlay written to {args.overlay}")
    return 0
