"""Your own camera: ``--dataset videos`` end to end on generated footage, its bad-input lines, events and streams."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
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
    assert metrics["roc_auc"] > 0.9  # the cross is easy
    capsys.readouterr()
    assert memae_main(["evaluate", str(trained / "best.pt")]) == 0
    assert "per-video AUC: evening " in capsys.readouterr().out

    out, events, summary = tmp_path / "s.csv", tmp_path / "events.csv", tmp_path / "summary.json"
    assert memae_main(["score-video", str(trained / "best.pt"), str(footage / "test" / "evening.mkv"), "--out",
                       str(out), "--events", str(events), "--json", str(summary), "--no-progress",
                       "--false-alarms-per-hour", "360", "--heatmaps", str(tmp_path / "maps")]) == 0
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
    from PIL import Image

    maps = sorted((tmp_path / "maps").glob("*.png"))  # one per event, named by its peak, at the source's resolution
    assert [m.name for m in maps] == [f"event_{k + 1:03d}_frame{int(r['peak_frame']):06d}.png" for k, r in enumerate(rows)]
    assert Image.open(maps[0]).size == (SIZE, SIZE)


def test_pipe_writes_rows_and_events_like_the_file(footage, trained, tmp_path):
    """``-`` reads standard input through a real (unseekable) pipe; rows and events match the file's."""
    video = footage / "test" / "evening.mkv"
    flags = ["--no-progress", "--alarm-quantile", "0.999", "--min-event-frames", "2"]
    file_out, file_events = tmp_path / "file.csv", tmp_path / "file_events.csv"
    assert memae_main(["score-video", str(trained / "best.pt"), str(video), "--out", str(file_out),
                       "--events", str(file_events)] + flags) == 0
    live_out, live_events, live_json = tmp_path / "live.csv", tmp_path / "live_events.csv", tmp_path / "live.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "memae", "score-video", str(trained / "best.pt"), "-", "--out",
                             str(live_out), "--events", str(live_events), "--json", str(live_json)] + flags,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout, stderr = proc.communicate(video.read_bytes(), timeout=120)  # written into the pipe as it is read
    assert proc.returncode == 0, stderr.decode()
    assert b"90 frames scored from stdin" in stdout
    file_rows, live_rows = list(csv.DictReader(open(file_out))), list(csv.DictReader(open(live_out)))
    assert [r["frame"] for r in live_rows] == [r["frame"] for r in file_rows]
    for f, s in zip(file_rows, live_rows):  # the same raw scores; a stream has no per-video min-max column
        assert s["regularity"] == "" and (s["score"] == f["score"] if s["scored"] == "1" else s["score"] == "")
    assert list(csv.DictReader(open(live_events))) == list(csv.DictReader(open(file_events)))
    assert json.loads(live_json.read_text())["video"] == "stdin"


def test_stream_errors_are_one_line(trained, tmp_path, capsys):
    assert memae_main(["score-video", str(trained / "best.pt"), "-", "--out", str(tmp_path / "s.csv"),
                       "--plot", str(tmp_path / "p.png")]) == 1
    assert "a stream (stdin or a URL) has no end" in capsys.readouterr().err
    assert memae_main(["score-video", str(trained / "best.pt"), "file:///nonexistent/cam.mkv", "--out",
                       str(tmp_path / "s.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: file:///nonexistent/cam.mkv: cannot open this stream") and "\n" not in err


# ------------------------------------------------------------------------------------------------------------------
# Bad input: one line each, before any training
# ------------------------------------------------------------------------------------------------------------------


def _train_error(root: Path, tmp_path: Path, capsys) -> str:
    sets = [a for item in TINY + [f"data.cache_dir={tmp_path / 'cache'}"] for a in ("--set", item)]
    code = memae_main(["train", "--config", "video_cpu", "--dataset", "videos", "--data-root", str(root), "--epochs",
                       "1", "--device", "cpu", "--out", str(tmp_path / "runs")] + sets)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("Error: "), err
    assert not any((tmp_path / "runs").glob("*")), "a failed start leaves no run folder"
    return err[0]


def test_bad_footage_is_one_line(tmp_path, capsys):
    root = tmp_path / "cams"
    root.mkdir()
    (root / "notes.txt").write_text("no video here")
    assert "no readable video here" in _train_error(root, tmp_path, capsys)
    write_video(root / "short.mkv", blobs(5, 0), fps=10)
    assert "short.mkv: 5 frames, shorter than one clip of 8" in _train_error(root, tmp_path, capsys)
    write_video(root / "fast.mkv", blobs(12, 0), fps=30)  # 12 frames at 30 fps are 4 at 10 fps
    (root / "short.mkv").unlink()
    assert "fast.mkv: 4 frames at 10 fps, shorter than one clip of 8" in _train_error(root, tmp_path, capsys)
    (root / "fast.mkv").unlink()
    write_video(root / "cam.mkv", blobs(40, 0), fps=10)
    (root / "broken.mp4").write_bytes(b"not a video")
    assert "broken.mp4: cannot read this video file" in _train_error(root, tmp_path, capsys)
    (root / "broken.mp4").unlink()

    test = root / "test"
    test.mkdir()
    write_video(test / "night.mkv", blobs(30, 1), fps=10)
    assert "labels.csv: labels file not found" in _train_error(root, tmp_path, capsys)
    (test / "labels.csv").write_text("video,start_frame,end_frame\nday,3,9\n")
    assert "line 2: video 'day' is not in" in _train_error(root, tmp_path, capsys)
    (test / "labels.csv").write_text("video,start_frame,end_frame\nnight.mkv,3,9\nnight,25,30\n")
    assert "line 3: span 25-30 runs past the end of night, which has 30 frames (0-29)" in _train_error(
        root, tmp_path, capsys)
    (test / "labels.csv").write_text("video,first,last\n")
    assert "the header must be video,start_frame,end_frame" in _train_error(root, tmp_path, capsys)


def test_labels_and_rates(tmp_path):
    root = tmp_path / "cams"
    write_video(root / "a.mkv", blobs(40, 0), fps=20)
    write_video(root / "test" / "b.mkv", blobs(40, 1), fps=20)
    write_video(root / "test" / "c.mkv", blobs(20, 1), fps=10)
    (root / "test" / "labels.csv").write_text("video,start_frame,end_frame\nb,10,19\n")
    bench = load_footage(root, fps=10, min_frames=8)
    assert [s.name for s in bench.test] == ["b", "c"] and bench.test[0].count_frames() == 20
    # labels are given at the source's frame numbers and follow the resampling: b's frames 10-19 are 5-9 at 10 fps
    assert np.flatnonzero(bench.test_labels[0]).tolist() == [5, 6, 7, 8, 9] and not bench.test_labels[1].any()
    assert resample_index(np.arange(6) / 30, 10).tolist() == [0, 3]  # 30 -> 10 fps drops two of three frames
    assert resample_index(np.arange(3) / 5, 10).tolist() == [0, 0, 1, 1, 2, 2]  # 5 -> 10 fps repeats each frame


def test_event_rules_and_alarm_threshold():
    scores = np.array([0, 5, 5, 0, 5, 0, 0, 0, 0, 5, np.nan, 9, 0.0])
    events = find_events(scores, threshold=1, min_frames=1, merge_gap=1)
    assert [(e.start_frame, e.end_frame, e.peak_frame) for e in events] == [(1, 4, 1), (9, 11, 11)]
    assert find_events(scores, threshold=1, min_frames=4, merge_gap=1)[0].frames == 4
    assert len(find_events(scores, threshold=1, min_frames=1, merge_gap=0)) == 4
    tracker = EventTracker(1, min_frames=1, merge_gap=1)
    closed = [len(tracker.push(t, s)) for t, s in enumerate(scores.tolist())]
    assert closed.index(1) == 6  # the first event closes once the merge gap has passed, not at the end
    dist = {"error": "mae", "n": 1001, "quantiles": list(np.linspace(0.0, 1.0, 1001))}
    alarm = alarm_threshold(dist, "mae", false_alarms_per_hour=36, fps=10)  # a share of 1e-3: the 0.999 quantile
    assert alarm.threshold == pytest.approx(0.999) and alarm.resolvable and alarm.expected_false_alarms_per_hour == pytest.approx(36)
    rare = alarm_threshold(dist, "mae", false_alarms_per_hour=1, fps=10)
    assert rare.threshold == 1.0 and not rare.resolvable and "validation frames" in rare.note
    assert alarm_threshold(dist, "mae", quantile=0.5).threshold == pytest.approx(0.5)
    with pytest.raises(DataError, match="no frame rate"):
        alarm_threshold(dist, "mae", false_alarms_per_hour=1, fps=None)
    with pytest.raises(DataError, match="validation scores are mae errors, not mse"):
        alarm_threshold(dist, "mse", quantile=0.5)
    with pytest.raises(DataError, match="stores no validation score distribution"):
        alarm_threshold(None, "mae", quantile=0.5)


def test_damage_is_reported_after_resampling(tmp_path):
    from fault_injection import _video

    from memae.data.footage import ResampledVideo
    from memae.data.video import open_video

    whole = _video(tmp_path / "good.mkv", n=40).read_bytes()  # 40 frames at 25 fps
    (tmp_path / "cut.mkv").write_bytes(whole[: int(len(whole) * 0.6)])
    shown = ResampledVideo(open_video(tmp_path / "cut.mkv"), 5)
    assert [k for k, _ in shown.iter_indexed_frames()] == [0, 1, 2, 3]
    assert shown.damage.summary().startswith("cut.mkv is damaged: 4 of 8 frames lost (frames 4-7: 4)")
