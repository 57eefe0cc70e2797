"""Your own camera: ``--dataset videos`` end to end on generated footage, its bad-input lines, events and streams."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from memae.cli.main import main as memae_main
from memae.data.footage import load_footage, resample_index
from memae.data.video import write_video
from memae.errors import DataError
from memae.scoring.events import EventTracker, alarm_threshold, find_events

REPO = Path(__file__).resolve().parents[1]
SIZE = 32
CLIP = 8


def blobs(n: int, seed: int, *, h: int = SIZE, w: int = SIZE, anomaly: tuple[int, int] | None = None) -> np.ndarray:
    """A small square drifting right over a dark background (normal); in frames ``anomaly`` (inclusive) a large
    bright cross appears (a shape the model never saw)."""
    rng = np.random.default_rng(seed)
    video = np.full((n, h, w), 40, dtype=np.uint8)
    y, x0 = int(rng.integers(4, h - 10)), int(rng.integers(0, w))
    for t in range(n):
        x = (x0 + t) % (w - 6)
        video[t, y : y + 5, x : x + 5] = 200
        if anomaly is not None and anomaly[0] <= t <= anomaly[1]:
            cy, cx = h // 2, (3 * t) % (w - 12) + 6
            video[t, cy - 8 : cy + 8, cx - 2 : cx + 2] = 255
            video[t, cy - 2 : cy + 2, cx - 8 : cx + 8] = 255
    return video


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    """Three normal videos (two sizes, two frame rates, one frame folder) and a labelled test/ folder."""
    from PIL import Image

    root = tmp_path_factory.mktemp("footage")
    write_video(root / "cam1.mkv", blobs(80, 0), fps=10)
    write_video(root / "cam2.mkv", blobs(160, 1, h=40, w=48), fps=20)  # twice the rate: resampled to 10 fps
    (root / "cam3").mkdir()
    for t, frame in enumerate(blobs(80, 2)):
        Image.fromarray(frame).save(root / "cam3" / f"{t:04d}.png")
    (root / "test").mkdir()
    write_video(root / "test" / "evening.mkv", blobs(90, 5, anomaly=(40, 59)), fps=10)
    write_video(root / "test" / "quiet.mkv", blobs(60, 6), fps=10)
    (root / "test" / "labels.csv").write_text("video,start_frame,end_frame\nevening,40,59\n")
    return root


TINY = ["data.clip_len=8", "data.frame_size=[32, 32]", "data.fps=10", "data.val_fraction=0.3",
        "model.options.width=0.25", "model.options.num_slots=50", "train.batch_size=8", "train.progress=false",
        "train.lr=0.003"]


@pytest.fixture(scope="module")
def trained(footage, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    sets = [a for item in TINY + [f"data.cache_dir={out / 'cache'}"] for a in ("--set", item)]
    assert memae_main(["train", "--config", "video_cpu", "--dataset", "videos", "--data-root", str(footage),
                       "--epochs", "4", "--device", "cpu", "--out", str(out / "runs")] + sets) == 0
    (run_dir,) = (out / "runs").iterdir()
    return run_dir


@pytest.mark.slow
def test_train_evaluate_and_events_on_own_footage(footage, trained, tmp_path, capsys):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["test_videos"] == ["evening", "quiet"] and metrics["data"]["name"] == "videos"
    assert metrics["auc"] > 0.9  # the cross is easy
    capsys.readouterr()
    assert memae_main(["evaluate", str(trained / "best.pt")]) == 0
    assert "per-video AUC: evening " in capsys.readouterr().out

    out, events, summary = tmp_path / "s.csv", tmp_path / "events.csv", tmp_path / "summary.json"
    assert memae_main(["score-video", str(trained / "best.pt"), str(footage / "test" / "evening.mkv"), "--out",
                       str(out), "--events", str(events), "--json", str(summary), "--no-progress",
                       "--false-alarms-per-hour", "360"]) == 0
    rows = list(csv.DictReader(open(events)))
    assert rows, "the cross must raise an event"
    info = json.loads(summary.read_text())
    assert info["alarm"]["method"] == "false_alarms_per_hour" and info["scores"] == "raw"
    assert info["threshold"] == pytest.approx(info["alarm"]["threshold"]) and len(info["events"]) == len(rows)
    normal = np.ones(90, dtype=bool)
    normal[40:60] = False
    covered = np.zeros(90, dtype=bool)
    for r in rows:
        covered[int(r["start_frame"]) : int(r["end_frame"]) + 1] = True
        assert float(r["end_s"]) == pytest.approx((int(r["end_frame"]) + 1) / 10)
    assert covered[40:60].mean() > 0.5  # the anomalous span is found
    # and little else: a clip centred within half a clip of the span sees the cross, so those frames may alarm
    near = np.zeros(90, dtype=bool)
    near[40 - CLIP : 60 + CLIP] = True
    assert not (covered & ~near).any() and (covered & normal).sum() <= 0.15 * normal.sum()
