"""The video pipeline: presets, the Table 2 path end to end (quick), resume, streaming scorer, score-video CLI."""

from __future__ import annotations

import os
import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from memae.cli.main import main as memae_main
from memae.scoring.video_output import OverlayWriter
from memae.data.video import ArrayVideo, ClipDataset, VideoSource, open_video, write_video
from memae.errors import ConfigError, DataError, MemAEError, UnknownNameError
from memae.config import ExperimentConfig, load_config
from memae.experiments.progress import RunStore
from memae.data.splits import video_tail_split
from memae.experiments.video_unit import build_video_model, check_video_config
from memae.models import build_model
from memae.scoring.video import frame_scores_from_clips
from memae.scoring.video_stream import score_video
from memae.training import save_checkpoint

REPO = Path(__file__).resolve().parents[1]
SIZE = 32


# ------------------------------------------------------------------------------------------------------------------
# A tiny synthetic benchmark: a small square drifting right is normal; a large bar sweeping fast is the anomaly.
# ------------------------------------------------------------------------------------------------------------------


def video_config(ref, overrides=None):
    """A video config as ``memae train --config`` and ``memae reproduce`` read it: the one loader, then the video check."""
    return check_video_config(load_config(ref, overrides))


def _frames(n: int, seed: int, anomaly_from: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    video = np.full((n, SIZE, SIZE), 40, dtype=np.uint8)
    y = int(rng.integers(6, SIZE - 10))
    for t in range(n):
        x = (int(rng.integers(0, 4)) + t) % (SIZE - 5)
        video[t, y : y + 4, x : x + 4] = 200
        if anomaly_from is not None and t >= anomaly_from:
            bx = (5 * t) % (SIZE - 8)
            video[t, 2 : SIZE - 2, bx : bx + 8] = 255
    return video


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """``frames/{training,testing}/NN.mkv`` + ``ground_truth/frame_labels_ped2.npy`` (the memae layout of Ped2)."""
    root = tmp_path_factory.mktemp("ped2")
    labels = []
    for i in range(3):
        write_video(root / "frames" / "training" / f"{i + 1:02d}.mkv", _frames(48, i))
    for i in range(2):
        write_video(root / "frames" / "testing" / f"{i + 1:02d}.mkv", _frames(48, 10 + i, anomaly_from=24))
        labels.append(np.r_[np.zeros(24), np.ones(24)])
    (root / "ground_truth").mkdir()
    np.save(root / "ground_truth" / "frame_labels_ped2.npy", np.concatenate(labels)[None].astype(np.uint8))
    return root


def tiny_model(clip_len: int = 8, size: int = SIZE, variant: str = "memae", num_slots: int = 20):
    torch.manual_seed(0)
    return build_model("video", variant, input_size=(clip_len, size, size), width=0.25, num_slots=num_slots).eval()


# ------------------------------------------------------------------------------------------------------------------
# Presets
# ------------------------------------------------------------------------------------------------------------------


def test_presets_load_and_differ_as_documented():
    paper, cpu = video_config("paper"), video_config("cpu")
    assert paper.data.frame_size == [256, 256] and paper.model.options.num_slots == 2000
    assert paper.model.architecture == "video" and paper.model.options.width == 1.0
    assert paper.train.lr == 1e-4 and paper.train.batch_size == 14 and paper.train.epochs == 100
    assert paper.model.options.shrink_threshold == 0.0025 and paper.model.options.similarity == "dot"
    assert cpu.data.frame_size[0] * cpu.data.frame_size[1] < 256 * 256 and cpu.train.lr > paper.train.lr
    assert cpu.model.options.num_slots == 2000 and cpu.data.clip_len == 16
    for config in (paper, cpu):  # both presets build a model whose input round-trips
        model = build_video_model(config, "memae")
        assert model.input_shape == (1, config.data.clip_len, *config.data.frame_size)


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key.*frame_sizes.*section 'data'"):
        video_config("cpu", ["data.frame_sizes=[64, 64]"])
    with pytest.raises(ConfigError, match="score.error must be one of mse, mae, got .l1."):
        video_config("cpu", ["score.error=l1"])
    with pytest.raises(ConfigError, match="train.epochs must be an integer"):
        video_config("cpu", ["train.epochs=many"])
    with pytest.raises(ConfigError, match="config file gpu does not exist"):  # neither a preset nor a file
        video_config("gpu")
    assert video_config("video_cpu") == video_config("cpu")  # --config takes both names
    assert video_config("paper", ["model.options.shrink_threshold=5/N"]).model.options.shrink_threshold == "5/N"
    assert isinstance(video_config("cpu"), ExperimentConfig)


def test_validation_split_takes_the_end_of_each_training_video():
    train, val = video_tail_split(120, clip_len=16, val_fraction=0.1)
    assert (train, val) == (slice(0, 104), slice(104, 120))  # 10 % = 12 frames, raised to one clip
    assert video_tail_split(180, 16, 0.1)[1] == slice(162, 180)  # 18 frames (10 %) is more than a clip
    assert video_tail_split(20, 16, 0.1) == (slice(0, 20), None)  # too short for both parts: all training
    assert video_tail_split(120, 16, 0.0) == (slice(0, 120), None)


# ------------------------------------------------------------------------------------------------------------------
# Table 2 end to end (quick) and resume
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_table2_quick_end_to_end_and_resume(bench, tmp_path, capsys):
    out, cache = tmp_path / "runs", tmp_path / "cache"
    argv = ["reproduce", "table2", "--data-root", str(bench), "--preset", "cpu", "--quick", "--device", "cpu",
            "--out", str(out), "--set", f"data.cache_dir={cache}", "--set", "data.clip_len=8",
            "--set", "train.progress=false"]
    assert memae_main(argv) == 0
    (run_dir,) = out.iterdir()
    rows = list(csv.DictReader(open(run_dir / "results.csv")))
    assert [r["method"] for r in rows] == ["ae", "memae-nonspar", "memae"]
    for r in rows:
        assert 0.0 <= float(r["roc_auc"]) <= 1.0 and 0.0 <= float(r["eer"]) <= 1.0
        assert int(r["epochs"]) == 1 and int(r["n_frames"]) == 2 * (48 - 7)  # centre mode: 7 unscored per video
        assert int(r["n_anomalous"]) == 2 * 21  # anomalous frames 24-47, scored up to frame 44
        assert float(r["roc_auc"]) > 0.9  # the big bar is easy: a lower AUC would mean scores and labels are misaligned
        assert 0.0 < float(r["paper_auc"]) <= 1.0  # the paper's figure is reported beside ours
    text = (run_dir / "results.md").read_text()
    assert "memae reproduce table2" in text and "--quick" in text and "commit" in text and "MemAE-nonSpar" in text
    for name in ("fig5_regularity.png", "fig6_reconstructions.png", "config.yaml", "log.txt", "run.json"):
        assert (run_dir / name).is_file(), name
    unit = run_dir / "memae-seed1"
    assert {"best.pt", "last.pt", "metrics.json", "scores.npz"} <= {p.name for p in unit.iterdir()}
    assert any(cache.glob("*_32x32_*.npy"))  # frames decoded once into the cache, not the repo
    first = json.loads((unit / "metrics.json").read_text())
    # Ped2 scoring as the authors do it: MemAE by absolute, AE by squared error; both errors reported for both
    ae_unit = json.loads((run_dir / "ae-seed1" / "metrics.json").read_text())
    assert first["error"] == "mae" and ae_unit["error"] == "mse"
    for record in (first, ae_unit):
        assert record["roc_auc"] == record[f"roc_auc_{record['error']}"]
        assert 0.0 <= record["roc_auc_mae"] <= 1.0 and 0.0 <= record["roc_auc_mse"] <= 1.0
    assert "`mse` for AE / AE-l1" in text

    state = json.loads((run_dir / "run.json").read_text())
    assert state["experiment"] == "table2" and state["options"]["quick"] is True and len(state["commits"]) == 1
    assert [u["method"] for u in state["units"]] == ["ae", "memae-nonspar", "memae"]

    # Resume: finished methods are skipped; the one without metrics.json is finished from its last.pt.  The run
    # folder is given run.json in the layout of the versions before the shared run store: it resumes all the same.
    old_layout = {"experiment": "table2", "command": state["command"], "units": state["units"], "quick": True,
                  "started": state["started"]}
    (run_dir / "run.json").write_text(json.dumps(old_layout))
    (unit / "metrics.json").unlink()
    assert memae_main(["reproduce", "table2", "--resume", str(run_dir)]) == 0
    log = (run_dir / "log.txt").read_text()
    assert "ae-seed1: already done" in log and "memae-seed1: resuming" in log
    assert f"memae reproduce table2 --resume {run_dir};" in log  # the run's config holds the rest
    resumed = json.loads((run_dir / "run.json").read_text())  # rewritten in the current layout
    assert resumed["units"] == state["units"] and resumed["command"] == state["command"]
    assert resumed["options"]["quick"] is True and len(resumed["commits"]) == 1
    again = json.loads((unit / "metrics.json").read_text())
    assert again["roc_auc"] == pytest.approx(first["roc_auc"], abs=1e-9) and again["epochs"] == 1
    assert len(list(out.iterdir())) == 1  # no new run folder

    # Two processes on one run: a unit locked by a live process is left to it and the table waits for it.
    (unit / "metrics.json").unlink()
    with RunStore(run_dir, "table2").claim("memae-seed1") as held:  # the other process
        assert held
        assert memae_main(["reproduce", "table2", "--resume", str(run_dir)]) == 0
    assert "memae-seed1: being run by another process, skipping" in (run_dir / "log.txt").read_text()
    assert not (unit / "metrics.json").exists()
    assert [r["method"] for r in csv.DictReader(open(run_dir / "results.csv"))] == ["ae", "memae-nonspar"]
    assert memae_main(["reproduce", "table2", "--resume", str(run_dir)]) == 0  # the other process ended
    assert [r["method"] for r in csv.DictReader(open(run_dir / "results.csv"))] == ["ae", "memae-nonspar", "memae"]

    # A video anomalous throughout has no AUC of its own (null in metrics.json, as Ped2's videos 03 and 08-11):
    # the per-video table shows n/a and the run still writes its table.  The unit's metrics.json is written with
    # the metric names of the versions before one vocabulary (auc, ap, mean_video_auc, video_aucs): it reads.
    ae_metrics = run_dir / "ae-seed1" / "metrics.json"
    record = json.loads(ae_metrics.read_text())
    old_names = {"roc_auc": "auc", "average_precision": "ap", "mean_video_roc_auc": "mean_video_auc",
                 "video_roc_aucs": "video_aucs", "roc_auc_mae": "auc_mae", "roc_auc_mse": "auc_mse"}
    old = {old_names.get(k, k): v for k, v in record.items()}
    ae_metrics.write_text(json.dumps({**old, "video_aucs": [None] + record["video_roc_aucs"][1:]}))
    assert memae_main(["reproduce", "table2", "--resume", str(run_dir)]) == 0
    per_video = (run_dir / "results.md").read_text().split("## Per-video AUC")[1]
    ae_row = next(line for line in per_video.splitlines() if line.startswith("| AE"))
    assert ae_row.split("|")[2].strip() == "n/a"
    ae_metrics.write_text(json.dumps(record))

    # Table 4 takes AE and MemAE from this Table 2 run when every setting matches, and refuses when one differs.
    out4 = tmp_path / "table4"
    argv4 = [a if a != str(out) else str(out4) for a in argv]
    argv4[1] = "table4"
    assert memae_main(argv4 + ["--methods", "memae,ae", "--reuse", str(run_dir)]) == 0
    (run4,) = out4.iterdir()
    assert [r["method"] for r in csv.DictReader(open(run4 / "results.csv"))] == ["ae", "memae"]  # the paper's order
    log4 = (run4 / "log.txt").read_text()
    assert "ae-seed1: reused from" in log4 and "memae-seed1: reused from" in log4 and "seed1: training" not in log4
    assert json.loads((run4 / "memae-seed1" / "metrics.json").read_text())["roc_auc"] == again["roc_auc"]
    assert memae_main(argv4 + ["--methods", "ae", "--reuse", str(run_dir), "--set", "train.lr=0.5"]) == 1
    assert "differs in train.lr" in capsys.readouterr().err
    assert len(list(out4.iterdir())) == 1  # the refused run left no folder behind


def test_reproduce_errors_are_one_line(bench, tmp_path, capsys):
    assert memae_main(["reproduce", "table2", "--quick", "--preset", "cpu", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: no data root for ped2: pass --data-root") and "\n" not in err
    assert memae_main(["reproduce", "table4", "--resume", str(tmp_path / "nothing")]) == 1
    assert "run.json does not exist" in capsys.readouterr().err
    assert memae_main(["reproduce", "fig7", "--methods", "ae", "--data-root", str(bench), "--quick",
                       "--out", str(tmp_path)]) == 1
    assert "fig7 varies the memory size" in capsys.readouterr().err
    assert memae_main(["reproduce", "table2", "--preset", "gpu", "--data-root", str(bench), "--quick",
                       "--out", str(tmp_path)]) == 1
    assert "unknown video preset 'gpu'; choose paper, cpu or a .yaml file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------------------
# Streaming scorer
# ------------------------------------------------------------------------------------------------------------------


@torch.no_grad()
def _reference_clip_errors(model, video: np.ndarray, clip_len: int, error: str) -> np.ndarray:
    data = ClipDataset([video], clip_len, 1)
    x = torch.stack([data[i] for i in range(len(data))])
    diff = model(x)[0] - x
    per = diff.pow(2) if error == "mse" else diff.abs()
    return per.flatten(1).mean(1).double().numpy()


@pytest.mark.parametrize("error,mode,batch", [("mae", "center", 3), ("mse", "mean", 5)])
def test_streaming_equals_per_clip_computation(error, mode, batch):
    model = tiny_model()
    video = np.random.default_rng(0).integers(0, 256, (30, SIZE, SIZE), dtype=np.uint8)
    result = score_video(model, ArrayVideo(video, "v"), error=error, mode=mode, batch_size=batch, progress=False)
    expected = _reference_clip_errors(model, video, 8, error)
    assert result.num_frames == 30 and result.clip_errors.shape == (23,)
    np.testing.assert_allclose(result.clip_errors, expected, rtol=1e-5, atol=1e-7)
    frames, scored = frame_scores_from_clips(expected, 30, 8, 1, mode)
    np.testing.assert_allclose(result.scores, frames, rtol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(result.scored, scored)


class CountingSource(VideoSource):
    """Yields ``n`` frames lazily and counts how many the consumer has pulled."""

    def __init__(self, n: int, size: int = SIZE) -> None:
        self.name, self.n, self.size, self.pulled = "counting", n, size, 0

    @property
    def num_frames(self) -> int:
        return self.n

    def iter_frames(self):
        for t in range(self.n):
            self.pulled += 1
            yield np.full((self.size, self.size), t % 256, dtype=np.uint8)


def test_streaming_memory_stays_bounded():
    model, L, B, n = tiny_model(), 8, 4, 300
    source = CountingSource(n)
    seen: list[tuple[int, int]] = []  # (frames pulled, clips in this batch) at every model call
    handle = model.register_forward_pre_hook(lambda m, inp: seen.append((source.pulled, inp[0].shape[0])))
    delivered: list[tuple[int, bool]] = []
    held: list[int] = []

    def on_frame(index, frame, emap, value):
        delivered.append((index, emap is not None))
        held.append(source.pulled - len(delivered))  # native frames pulled but not yet handed out
        assert frame.shape == (SIZE, SIZE) and (emap is None or emap.shape == (SIZE, SIZE))

    result = score_video(model, source, batch_size=B, on_frame=on_frame, progress=False)
    handle.remove()
    done = 0
    for pulled, clips in seen:
        assert clips <= B
        assert pulled <= done + L + B  # never reads ahead of the batch being scored
        done += clips
    assert done == n - L + 1 and len(result.scores) == n
    assert [i for i, _ in delivered] == list(range(n))  # every frame once, in order
    assert [i for i, has in delivered if has] == list(range(L // 2, n - L + L // 2 + 1))
    assert max(held) <= L + B


def test_score_video_rejects_short_and_mismatched_input():
    model = tiny_model()
    with pytest.raises(DataError, match="7 frames, shorter than one clip of 8"):
        score_video(model, ArrayVideo(np.zeros((7, SIZE, SIZE), np.uint8), "short"), progress=False)
    with pytest.raises(DataError, match="do not fit the model"):
        score_video(model, ArrayVideo(np.zeros((20, SIZE, SIZE), np.uint8)), clip_len=16, progress=False)
    with pytest.raises(DataError, match="mode must be one of"):
        score_video(model, ArrayVideo(np.zeros((20, SIZE, SIZE), np.uint8)), mode="max", progress=False)
    with pytest.raises(DataError, match="not a video model"):
        score_video(build_model("mnist", "ae"), ArrayVideo(np.zeros((20, SIZE, SIZE), np.uint8)), progress=False)


# ------------------------------------------------------------------------------------------------------------------
# score-video CLI
# ------------------------------------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    """The real ``memae`` entry point; MEMAE_DEBUG=1 lets errors propagate so tests can match their type."""
    from memae.cli.main import main

    previous = os.environ.get("MEMAE_DEBUG")
    os.environ["MEMAE_DEBUG"] = "1"
    try:
        return main(argv)
    finally:
        if previous is None:
            del os.environ["MEMAE_DEBUG"]
        else:
            os.environ["MEMAE_DEBUG"] = previous


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "best.pt"
    save_checkpoint(path, tiny_model(size=24), config={"score": {"error": "mse", "mode": "center"},
                                                       "data": {"resample": "bilinear"}})
    return path


def test_score_video_cli_writes_csv_plot_and_overlay(checkpoint, tmp_path):
    frames = _frames(40, 3, anomaly_from=20)[:, :, :30]  # 32x30: resized to the model's 24x24
    video = write_video(tmp_path / "clip.mp4", frames, codec="libx264")
    out = tmp_path / "scores.csv"
    assert _cli(["score-video", str(checkpoint), str(video), "--out", str(out), "--plot", str(tmp_path / "r.png"),
                 "--overlay", str(tmp_path / "overlay.mp4"), "--batch-size", "3", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 40 and [int(r["frame"]) for r in rows] == list(range(40))
    reg = np.array([float(r["regularity"]) for r in rows])
    assert reg.min() == 0.0 and reg.max() == 1.0 and np.all((reg >= 0) & (reg <= 1))
    assert sum(int(r["scored"]) for r in rows) == 40 - 7
    assert (tmp_path / "r.png").stat().st_size > 1000
    overlay = open_video(tmp_path / "overlay.mp4")
    assert overlay.count_frames() == 40 and overlay.frame_size == (32, 30)
    # the error defaults to the checkpoint's (mse); --error mae changes the scores, PNG overlays go to a folder
    out2 = tmp_path / "scores_mae.csv"
    assert _cli(["score-video", str(checkpoint), str(video), "--out", str(out2), "--error", "mae", "--mode", "mean",
                 "--overlay", str(tmp_path / "pngs"), "--no-progress"]) == 0
    rows2 = list(csv.DictReader(open(out2)))
    assert len(rows2) == 40 and all(int(r["scored"]) == 1 for r in rows2)
    assert rows2[20]["score"] != rows[20]["score"]
    assert len(list((tmp_path / "pngs").glob("*.png"))) == 40


def test_score_video_cli_errors(checkpoint, tmp_path):
    short = write_video(tmp_path / "short.mkv", _frames(5, 0))
    with pytest.raises(DataError, match=r"short.mkv: the video has 5 frames, shorter than one clip of 8"):
        _cli(["score-video", str(checkpoint), str(short), "--out", str(tmp_path / "s.csv"), "--no-progress"])
    assert not (tmp_path / "s.csv").exists()
    with pytest.raises(DataError, match="no such video file or frame folder"):
        _cli(["score-video", str(checkpoint), str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "s.csv")])
    with pytest.raises(MemAEError, match="does not exist"):
        _cli(["score-video", str(tmp_path / "none.pt"), str(short), "--out", str(tmp_path / "s.csv")])
    with pytest.raises(DataError, match="overlay must be a video"):
        OverlayWriter(tmp_path / "x.gif")


# ------------------------------------------------------------------------------------------------------------------
# Speed benchmark (smallest settings)
# ------------------------------------------------------------------------------------------------------------------


def test_speed_benchmark_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("video_speed", REPO / "benchmarks" / "video_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "speed.json"
    assert module.main(["--presets", "cpu", "--frame-size", "32", "32", "--width", "0.25", "--num-slots", "50",
                        "--infer-batch", "2", "--train-batch", "2", "--repeats", "1", "--warmup", "0",
                        "--train-repeats", "1", "--train-warmup", "0", "--json", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert row["dtype"] == "fp32" and row["infer_frames_per_s"] > 0 and row["train_clips_per_s"] > 0
    assert 0.0 < row["memory_module_share"] < 1.0 and row["queries_per_clip"] == 2 * 2 * 2


def test_fig7_quick_varies_the_memory_size(bench, tmp_path):
    out = tmp_path / "runs"
    assert memae_main(["reproduce", "fig7", "--data-root", str(bench), "--preset", "cpu", "--quick", "--device", "cpu",
                       "--out", str(out), "--set", f"data.cache_dir={tmp_path / 'cache'}", "--set", "data.clip_len=8",
                       "--set", "reproduce.fig7_num_slots=[20, 50]", "--set", "train.progress=false"]) == 0
    (run_dir,) = out.iterdir()
    rows = list(csv.DictReader(open(run_dir / "results.csv")))
    assert [(r["method"], int(r["num_slots"])) for r in rows] == [("memae", 20), ("memae", 50)]
    assert (run_dir / "memae-N20-seed1" / "best.pt").is_file() and (run_dir / "fig7_memory_size.png").is_file()
    state = torch.load(run_dir / "memae-N50-seed1" / "best.pt", weights_only=True)
    assert state["model_config"]["num_slots"] == 50 and state["model"]["memory.memory"].shape[0] == 50


# ------------------------------------------------------------------------------------------------------------------
# memae train --config <video preset> and memae evaluate on its checkpoint
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_train_video_preset_then_evaluate(bench, tmp_path, capsys):
    out, cache = tmp_path / "runs", tmp_path / "cache"
    preset = REPO / "src" / "memae" / "experiments" / "configs" / "video_cpu.yaml"
    small = ["data.clip_len=8", "data.frame_size=[32, 32]", "data.max_train_clips=48", "model.options.width=0.25",
             "model.options.num_slots=100", "train.batch_size=8", "train.progress=false", f"data.cache_dir={cache}"]
    argv = ["train", "--config", str(preset), "--epochs", "1", "--data-root", str(bench), "--device", "cpu",
            "--out", str(out)] + [a for item in small for a in ("--set", item)]
    assert memae_main(argv) == 0
    (run_dir,) = out.iterdir()
    assert {"config.yaml", "best.pt", "last.pt", "history.csv", "metrics.json", "log.txt"} <= {
        p.name for p in run_dir.iterdir()}
    trained = json.loads((run_dir / "metrics.json").read_text())
    assert trained["method"] == "memae" and trained["epochs"] == 1 and trained["error"] == "mae"
    assert trained["n_frames"] == 2 * (48 - 7)  # centre mode: 7 unscored frames per video
    for key in ("roc_auc", "mean_video_roc_auc"):
        assert 0.9 < trained[key] <= 1.0  # the big bar is easy
    assert "roc_auc=" in capsys.readouterr().out

    assert memae_main(["evaluate", str(run_dir / "best.pt")]) == 0
    printed = capsys.readouterr().out
    assert "per-video AUC: 01 " in printed and "mean_video_roc_auc=" in printed
    (evaluated,) = [p for p in out.iterdir() if p != run_dir]  # beside the run
    assert evaluated.name.startswith("video-evaluate-")
    metrics = json.loads((evaluated / "metrics.json").read_text())
    assert metrics["test_videos"] == ["01", "02"] and len(metrics["video_roc_aucs"]) == 2
    for key in ("roc_auc", "mean_video_roc_auc"):  # the same model on the same frames: the training run's numbers
        assert metrics[key] == pytest.approx(trained[key], abs=1e-9)
    assert all(0.0 <= a <= 1.0 for a in metrics["video_roc_aucs"])

    # a preset by name, and flags that do not apply to video, are one-line errors before any training
    assert memae_main(["train", "--config", "video_cpu", "--normal-class", "3", "--out", str(out)]) == 1
    assert "not for a video config" in capsys.readouterr().err
    assert memae_main(["train", "--config", "cpu", "--variant", "memae-big", "--out", str(out)]) == 1
    assert "model.variant must be one of" in capsys.readouterr().err
    assert len(list(out.iterdir())) == 2
