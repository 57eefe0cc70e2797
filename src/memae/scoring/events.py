"""Events and a calibrated alarm: runs of frames whose raw score is above a threshold set from the validation normals.

Training stores the validation clips' error distribution in ``best.pt`` (:mod:`memae.scoring.distribution`); a clip's
error is its centre frame's score, so those numbers are the frame scores of normal footage the model never trained on.

* :func:`alarm_threshold` turns a target into a threshold on that distribution: ``quantile=q`` takes its ``q``
  quantile; ``false_alarms_per_hour=R`` at ``fps`` frames per second allows a share ``p = R / (3600 * fps)`` of
  normal frames above it (``q = 1 - p``).  Counting every frame above the threshold as one false alarm makes R an
  upper bound: events are runs, so a run of several frames is one alarm.  A validation set of ``n`` frames resolves
  shares down to ``1 / n`` only; a smaller target takes the validation maximum and says so (``resolvable``).
* :class:`EventTracker` turns a stream of ``(frame, score)`` into :class:`Event` s as they close: frames above the
  threshold form runs, runs at most ``merge_gap`` frames apart merge, and an event must span ``min_frames`` frames.
  :func:`find_events` is the same over whole arrays.

Scores are raw errors throughout, never per-video min-max normalised: normalisation would stretch any video, also a
quiet one, until its busiest moment reached the top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import DataError

# numpy and the checkpoint keys are imported where they are used: the CLI reads this module's defaults for its help

__all__ = ["DEFAULT_FALSE_ALARMS_PER_HOUR", "DEFAULT_MIN_EVENT_FRAMES", "DEFAULT_MERGE_GAP_FRAMES", "EVENT_COLUMNS",
           "Alarm", "Event", "EventTracker", "alarm_threshold", "alarm_summary", "find_events", "stored_distribution"]

DEFAULT_FALSE_ALARMS_PER_HOUR = 1.0
DEFAULT_MIN_EVENT_FRAMES = 3  # a single noisy frame is not an event
DEFAULT_MERGE_GAP_FRAMES = 5  # a dip of a few frames inside one incident does not split it
EVENT_COLUMNS = ("start_frame", "end_frame", "start_s", "end_s", "peak_score", "peak_frame")


@dataclass
class Alarm:
    """A threshold on raw frame scores and how it was set."""

    threshold: float
    method: str  # "false_alarms_per_hour" | "alarm_quantile"
    target: float  # the rate R (per hour) or the quantile q asked for
    quantile: float  # the validation quantile the threshold sits at
    expected_false_alarms_per_hour: float | None  # at most this many, on normal footage (needs the fps)
    fps: float | None
    n_validation: int
    error: str
    resolvable: bool  # False: the target is rarer than 1 in n_validation frames; the threshold is the validation max
    note: str = ""

    def describe(self) -> str:
        how = (f"{self.target:g} false alarms per hour at {self.fps:g} fps" if self.method == "false_alarms_per_hour"
               else f"quantile {self.target:g}")
        text = (f"alarm threshold {self.threshold:.6g} ({self.error}): the {100 * self.quantile:.4g}th percentile of "
                f"{self.n_validation} validation frames, for {how}")
        return text + (" (not verified: see the warning)" if self.note else "")


def stored_distribution(state: dict[str, Any]) -> dict[str, Any] | None:
    """The validation score distribution a checkpoint (as loaded) stores, or None."""
    from .distribution import DISTRIBUTION_KEY

    found = (state.get("extra") or {}).get(DISTRIBUTION_KEY)
    return found if isinstance(found, dict) and found.get("n") else None


def _quantile(distribution: dict[str, Any], q: float) -> float:
    import numpy as np

    if distribution.get("quantiles"):
        values = np.asarray(distribution["quantiles"], dtype=np.float64)
        return float(np.interp(q, np.linspace(0.0, 1.0, values.size), values))
    points = sorted((float(k) / 100.0, float(v)) for k, v in distribution["percentiles"].items())  # older checkpoints
    return float(np.interp(q, [p for p, _ in points], [v for _, v in points]))


def alarm_threshold(distribution: dict[str, Any] | None, error: str, *, false_alarms_per_hour: float | None = None,
                    quantile: float | None = None, fps: float | None = None) -> Alarm:
    """The alarm for a target rate or quantile (module docstring); one of ``false_alarms_per_hour``, ``quantile``.

    Raises
    ------
    DataError
        No stored distribution, one of another error, a rate without a frame rate, or an out-of-range target.
    """
    if distribution is None:
        raise DataError("this checkpoint stores no validation score distribution, so no alarm can be calibrated; "
                        "train it again with data.val_fraction > 0 (memae train stores it in best.pt)")
    stored_error = distribution.get("error")
    if stored_error not in (None, error):
        raise DataError(f"the checkpoint's validation scores are {stored_error} errors, not {error}; drop --error "
                        f"or pass --error {stored_error}")
    n = int(distribution["n"])
    if (false_alarms_per_hour is None) == (quantile is None):
        raise DataError("set the alarm by one of --false-alarms-per-hour and --alarm-quantile")
    if quantile is not None:
        if not 0.0 < quantile < 1.0:
            raise DataError(f"--alarm-quantile must be in (0, 1), got {quantile:g}")
        share, method, target = 1.0 - quantile, "alarm_quantile", quantile
    else:
        if not false_alarms_per_hour > 0:
            raise DataError(f"--false-alarms-per-hour must be > 0, got {false_alarms_per_hour:g}")
        if not fps:
            raise DataError("the video gives no frame rate, so a rate per hour cannot become a share of frames; "
                            "use --alarm-quantile")
        share, method, target = min(false_alarms_per_hour / (3600.0 * fps), 1.0), "false_alarms_per_hour", \
            false_alarms_per_hour
    resolvable, note = share >= 1.0 / n, ""
    q = 1.0 - share
    if not resolvable:
        q = 1.0
        shortest = f"; the smallest rate it resolves is {3600.0 * fps / n:.3g} per hour" if fps else ""
        note = (f"the target is rarer than 1 in the {n} validation frames, so the threshold is their maximum and the "
                f"false-alarm rate is not verified{shortest}; hold out more normal footage to check it")
    expected = 3600.0 * fps * (1.0 - q) if fps and resolvable else None
    return Alarm(_quantile(distribution, q), method, float(target), q, expected, float(fps) if fps else None, n,
                 error, resolvable, note)


@dataclass
class Event:
    """A run of alarmed frames: ``start_frame`` to ``end_frame`` inclusive (source frame numbers, 0-based)."""

    start_frame: int
    end_frame: int
    peak_score: float
    peak_frame: int

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    def row(self, fps: float | None) -> dict[str, Any]:
        """The events CSV row; ``start_s``/``end_s`` are the start of the first and the end of the last frame."""
        seconds = (lambda f: round(f / fps, 4)) if fps else (lambda f: None)  # noqa: E731
        return {"start_frame": self.start_frame, "end_frame": self.end_frame, "start_s": seconds(self.start_frame),
                "end_s": seconds(self.end_frame + 1), "peak_score": float(f"{self.peak_score:.8g}"),
                "peak_frame": self.peak_frame}


class EventTracker:
    """Turn ``(frame, score)`` pairs, in frame order, into events as they close (module docstring).

    ``push`` returns the events that closed with this frame (a run closes once ``merge_gap + 1`` frames past its last
    alarmed frame have gone by without another); ``finish`` closes the last one.  A NaN/None score never alarms.
    """

    def __init__(self, threshold: float, min_frames: int = DEFAULT_MIN_EVENT_FRAMES,
                 merge_gap: int = DEFAULT_MERGE_GAP_FRAMES) -> None:
        if min_frames < 1 or merge_gap < 0:
            raise DataError(f"--min-event-frames must be >= 1 and --merge-gap-frames >= 0, got {min_frames}, "
                            f"{merge_gap}")
        self.threshold, self.min_frames, self.merge_gap = float(threshold), int(min_frames), int(merge_gap)
        self._open: Event | None = None
        self.events: list[Event] = []  # every event closed so far

    def push(self, frame: int, score: float | None) -> list[Event]:
        closed: list[Event] = []
        run = self._open
        if run is not None and frame - run.end_frame - 1 > self.merge_gap:
            closed += self._close()
            run = None
        if score is not None and math.isfinite(score) and score > self.threshold:
            if run is None:
                self._open = Event(frame, frame, float(score), frame)
            else:
                run.end_frame = frame
                if score > run.peak_score:
                    run.peak_score, run.peak_frame = float(score), frame
        elif run is not None and frame - run.end_frame > self.merge_gap:  # no later frame can join it now
            closed += self._close()
        return closed

    def finish(self) -> list[Event]:
        return self._close()

    def _close(self) -> list[Event]:
        run, self._open = self._open, None
        if run is None or run.frames < self.min_frames:
            return []
        self.events.append(run)
        return [run]


def find_events(scores: Iterable[float], frames: Iterable[int] | None = None, *, threshold: float,
                min_frames: int = DEFAULT_MIN_EVENT_FRAMES, merge_gap: int = DEFAULT_MERGE_GAP_FRAMES) -> list[Event]:
    """:class:`EventTracker` over whole arrays: ``scores`` (NaN = unscored) at source frames ``frames``."""
    import numpy as np

    scores = np.asarray(list(scores), dtype=np.float64)
    frames = np.arange(scores.size) if frames is None else np.asarray(list(frames), dtype=np.int64)
    tracker = EventTracker(threshold, min_frames, merge_gap)
    for frame, score in zip(frames.tolist(), scores.tolist()):
        tracker.push(frame, score)
    tracker.finish()
    return tracker.events


def alarm_summary(alarm: Alarm, events: list[Event], tracker: EventTracker, video: str,
                  frames: int) -> dict[str, Any]:
    """What ``--json`` holds: the threshold, how it was set, the event rules and the events."""
    return {"video": video, "frames": frames, "threshold": alarm.threshold, "alarm": asdict(alarm),
            "min_event_frames": tracker.min_frames, "merge_gap_frames": tracker.merge_gap, "scores": "raw",
            "events": [e.row(alarm.fps) for e in events]}
