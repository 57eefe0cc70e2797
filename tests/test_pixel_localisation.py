"""Pixel-level localisation (issue 20, item 3): the Ped2 pixel-mask reader, the pixel metrics, and `memae evaluate`
scoring them on a tiny synthetic Ped2 layout (an untrained model: only the plumbing is checked, not a result)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from memae.cli.main import main as memae_main
from memae.data import ucsd
from memae.data.benchmarks import load_benchmark
from memae.data.video import write_video
from memae.errors import DataError
from memae.config import load_config
from memae.experiments.video_unit import check_video_config
from memae.models import build_model
from memae.scoring.metrics import PixelLocalisation, coverage_scores, pixel_roc_auc
from memae.scoring.video import heatmap
from memae.training import save_checkpoint

H, W = 24, 36  # native frames and masks (Ped2's 240x360 aspect); the model sees 16x16
LENGTHS = (30, 26)


def video_config(ref, overrides=None):
    """A video config as ``memae train --config`` and ``memae reproduce`` read it: the one loader, then the video check."""
    return check_video_config(load_config(ref, overrides))


def _masks(n: int, seed: int) -> np.ndarray:
    """A box that moves right from frame n // 2 on (the anomaly); empty masks before."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, H, W), dtype=bool)
    y = int(rng.integers(2, H - 10))
    for t in range(n // 2, n):
        x = (t - n // 2) % (W - 8)
        masks[t, y : y + 8, x : x + 8] = True
    return masks


def _write_npz(path: Path, masks: list[np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{f"Test{i + 1:03d}": m for i, m in enumerate(masks)})
    return path


# ------------------------------------------------------------------------------------------------------------------
# The reader
# ------------------------------------------------------------------------------------------------------------------


def test_read_pixel_masks_returns_bool_stacks_and_checks_frame_counts(tmp_path):
    masks = [_masks(n, i) for i, n in enumerate(LENGTHS)]
    npz = _write_npz(tmp_path / "ped2_pixel_masks.npz", [m.astype(np.uint8) for m in masks])
    read = ucsd.read_pixel_masks(npz, list(LENGTHS))
    assert [m.shape for m in read] == [(n, H, W) for n in LENGTHS] and all(m.dtype == bool for m in read)
    for a, b in zip(read, masks):
        np.testing.assert_array_equal(a, b)
    errors = []
    for call in (lambda: ucsd.read_pixel_masks(tmp_path / "none.npz", list(LENGTHS)),
                 lambda: ucsd.read_pixel_masks(npz, [LENGTHS[0], LENGTHS[1] + 1]),
                 lambda: ucsd.read_pixel_masks(npz, [*LENGTHS, 10])):
        with pytest.raises(DataError) as info:
            call()
        errors.append(str(info.value))
    assert "pixel-mask file not found" in errors[0]
    assert f"{LENGTHS[1]} pixel masks but the video has {LENGTHS[1] + 1} frames" in errors[1]
    assert "no pixel masks for Test003" in errors[2]
    assert all("\n" not in e for e in errors)
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(DataError, match="cannot read the pixel masks"):
        ucsd.read_pixel_mask(tmp_path / "bad.npz", 0)


# ------------------------------------------------------------------------------------------------------------------
# The metrics
# ------------------------------------------------------------------------------------------------------------------


def test_pixel_auc_is_one_for_the_mask_zero_inverted_and_half_for_noise():
    masks = np.stack([_masks(20, 0)[-1], _masks(20, 1)[-1]])
    rng = np.random.default_rng(0)
    noise = rng.random(masks.shape)
    assert pixel_roc_auc(masks.astype(float), masks) == 1.0
    assert pixel_roc_auc(1.0 - masks, masks) == 0.0
    assert abs(pixel_roc_auc(noise, masks) - 0.5) < 0.05
    for maps, expected, tol in ((masks.astype(np.float32), 1.0, 0), (1.0 - masks, 0.0, 0), (noise, 0.5, 0.05)):
        loc = PixelLocalisation(smooth=0)  # no smoothing, same resolution: the exact answers
        on_frame = loc.video(masks, np.ones(2, dtype=bool))
        for t in range(2):
            on_frame(t, None, maps[t], 1.0)
        result = loc.result()
        assert abs(result["pixel_auc"] - expected) <= tol and abs(result["mean_video_pixel_auc"] - expected) <= tol
        assert result["pixel_frames"] == 2


def test_streamed_pixel_auc_equals_sklearn_on_the_heatmaps():
    """Smoothed, upsampled maps at the masks' resolution; only anomalous frames count; float16 bins cost < 1e-3."""
    rng = np.random.default_rng(1)
    loc = PixelLocalisation()
    big_maps, big_masks = [], []
    for v, n in enumerate(LENGTHS):
        masks, labels = _masks(n, v), np.arange(n) >= n // 2
        on_frame = loc.video(masks, labels)
        for t in range(n):
            if t < 2:  # unscored: no clip centred here
                on_frame(t, None, None, None)
                continue
            small = masks[t, ::2, ::3].astype(np.float32)[:, :12] * 0.3 + 0.4 * rng.random((12, 12), np.float32)
            on_frame(t, None, small, 1.0)
            if labels[t]:
                big_maps.append(heatmap(small, (H, W)))
                big_masks.append(masks[t])
    result = loc.result()
    exact = roc_auc_score(np.ravel(big_masks), np.ravel(big_maps))
    assert 0.6 < exact < 1.0 and result["pixel_auc"] == pytest.approx(exact, abs=1e-3)
    assert result["pixel_frames"] == len(big_maps) and result["n_unscored_frames"] == 4
    assert result["pixel_resolution"] == [H, W] and len(result["video_pixel_aucs"]) == 2
    assert 0.0 <= result["ucsd_pixel_auc"] <= 1.0 and 0.0 <= result["ucsd_pixel_eer"] <= 1.0


def test_ucsd_criterion_needs_40_percent_of_the_mask():
    mask = np.zeros((1, 4, 5), dtype=bool)
    mask[0, 0, :] = mask[0, 1, :] = True  # 10 anomalous pixels
    emap = np.zeros((1, 4, 5))
    emap[0][mask[0]] = np.arange(1, 11)
    emap[0, 3, 4] = 50.0  # a hot normal pixel does not help: 40 % of 10 is the 4th largest inside, 7
    assert coverage_scores(emap, mask).tolist() == [7.0]
    assert coverage_scores(emap, np.zeros_like(mask)).tolist() == [50.0]  # normal frame: flagged by its maximum
    # a map that is the mask: anomalous frames found at thresholds where no normal frame is flagged
    loc = PixelLocalisation(smooth=0)
    masks = _masks(20, 3)
    on_frame = loc.video(masks, masks.any(axis=(1, 2)))
    for t in range(20):
        on_frame(t, None, masks[t].astype(np.float32), 1.0)
    result = loc.result()
    assert result["ucsd_pixel_auc"] == 1.0 and result["ucsd_pixel_eer"] == 0.0


# ------------------------------------------------------------------------------------------------------------------
# memae evaluate on a tiny Ped2 layout with ground_truth/ped2_pixel_masks.npz
# ------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ped2_like(tmp_path_factory) -> tuple[Path, Path]:
    """``frames/{training,testing}/NN.mkv`` + ``ground_truth/`` frame labels and pixel masks, and a checkpoint of an
    untrained tiny video model whose config names that root."""
    root = tmp_path_factory.mktemp("ped2px")
    rng = np.random.default_rng(0)
    write_video(root / "frames" / "training" / "01.mkv", rng.integers(30, 60, (20, H, W), dtype=np.uint8))
    masks = [_masks(n, i) for i, n in enumerate(LENGTHS)]
    for i, m in enumerate(masks):
        frames = rng.integers(30, 60, m.shape, dtype=np.uint8)
        frames[m] = 220  # the anomaly is bright
        write_video(root / "frames" / "testing" / f"{i + 1:02d}.mkv", frames)
    labels = np.concatenate([m.any(axis=(1, 2)) for m in masks]).astype(np.uint8)
    (root / "ground_truth").mkdir()
    np.save(root / "ground_truth" / "frame_labels_ped2.npy", labels[None])
    _write_npz(root / "ground_truth" / "ped2_pixel_masks.npz", masks)
    config = video_config("cpu", [
        f"data.root={root}", "data.clip_len=8", "data.frame_size=[16, 16]", f"data.cache_dir={root / 'cache'}",
        "model.options.width=0.25", "model.options.num_slots=20", "train.progress=false", "train.device=cpu"])
    torch.manual_seed(0)
    model = build_model("video", "memae", input_size=(8, 16, 16), width=0.25, num_slots=20).eval()
    checkpoint = save_checkpoint(root / "run" / "best.pt", model, config=config.to_dict())
    return root, checkpoint


def test_ped2_loader_reads_the_npz_lazily_and_checks_lengths(ped2_like):
    root, _ = ped2_like
    bench = load_benchmark("ped2", root)
    masks = bench.load_pixel_mask(1)
    assert masks.shape == (LENGTHS[1], H, W) and masks.dtype == bool
    np.testing.assert_array_equal(masks.any(axis=(1, 2)), bench.test_labels[1])


def test_evaluate_writes_pixel_metrics_and_no_pixel_skips_them(ped2_like, tmp_path, capsys):
    _, checkpoint = ped2_like
    assert memae_main(["evaluate", str(checkpoint), "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    assert "pixel_auc=" in printed and "ucsd_pixel_auc=" in printed
    (run,) = (tmp_path / "a").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["pixel_auc"] <= 1.0 and 0.0 <= metrics["ucsd_pixel_auc"] <= 1.0
    pixel = metrics["pixel"]
    anomalous_scored = sum(n - n // 2 for n in LENGTHS) - 2 * (8 - 8 // 2 - 1)  # the last 3 frames have no map
    assert pixel["pixel_frames"] == anomalous_scored and pixel["pixel_resolution"] == [H, W]
    assert pixel["n_unscored_frames"] == 2 * 7 and 0.0 <= metrics["roc_auc"] <= 1.0

    assert memae_main(["evaluate", str(checkpoint), "--out", str(tmp_path / "b"), "--no-pixel"]) == 0
    assert "pixel_auc" not in capsys.readouterr().out
    (run,) = (tmp_path / "b").iterdir()
    metrics_b = json.loads((run / "metrics.json").read_text())
    assert "pixel" not in metrics_b and metrics_b["roc_auc"] == pytest.approx(metrics["roc_auc"], abs=1e-12)


def test_evaluate_refuses_masks_of_another_length(ped2_like, tmp_path, capsys):
    root, checkpoint = ped2_like
    other = tmp_path / "ped2"
    other.mkdir()
    for sub in ("frames", "ground_truth"):
        (other / sub).symlink_to(root / sub) if sub == "frames" else (other / sub).mkdir()
    labels = np.load(root / "ground_truth" / "frame_labels_ped2.npy")
    np.save(other / "ground_truth" / "frame_labels_ped2.npy", labels)
    _write_npz(other / "ground_truth" / "ped2_pixel_masks.npz", [_masks(LENGTHS[0], 0), _masks(LENGTHS[1] - 1, 1)])
    argv = ["evaluate", str(checkpoint), "--out", str(tmp_path / "runs"), "--data-root", str(other)]
    assert memae_main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()  # progress lines, then the one-line error
    assert err[-1].startswith("Error: ")
    assert f"{LENGTHS[1] - 1} pixel masks but the video has {LENGTHS[1]} frames" in err[-1]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
