"""Video sources, frame cache, clips and the UCSD / Avenue / ShanghaiTech loaders."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image

from memae.data import avenue, shanghaitech, ucsd
from memae.data.benchmarks import load_benchmark
from memae.data.video import (
    ArrayVideo,
    ClipDataset,
    FrameFolder,
    VideoFile,
    iter_clips,
    iter_frames,
    load_frames,
    natural_key,
    open_video,
    split_concatenated,
    write_video,
)
from memae.errors import DataError, UnknownNameError


@pytest.fixture(scope="module")
def ped2_root(datasets_root):
    return datasets_root / "ucsd_ped2"


@pytest.fixture(scope="module")
def avenue_root(datasets_root):
    return datasets_root / "avenue"


@pytest.fixture(scope="module")
def shanghai_root(datasets_root):
    return datasets_root / "shanghaitech"


PED2_TRAIN_LENGTHS = [120, 150, 150, 180, 180, 150, 150, 120, 180, 180, 180, 180, 180, 150, 150, 150]
PED2_TEST_LENGTHS = [180, 180, 150, 180, 150, 180, 180, 180, 120, 150, 180, 180]
AVENUE_LENGTHS = [1439, 1211, 923, 947, 1007, 1283, 605, 36, 1175, 841, 472, 1271, 549, 507, 1001, 740, 426, 294,
                  248, 273, 76]


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available at {path}")
    return path


def ramp_video(n: int = 20, h: int = 32, w: int = 48) -> np.ndarray:
    """A deterministic uint8 video whose frames all differ (so order errors show)."""
    base = np.linspace(0, 200, h * w).reshape(h, w)
    return (base[None] + 2.5 * np.arange(n)[:, None, None]).clip(0, 255).astype(np.uint8)


def write_frames(folder: Path, frames: np.ndarray, pattern: str = "{:03d}.png", start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, f in enumerate(frames):
        Image.fromarray(f).save(folder / pattern.format(k + start))


def mat_cell(arrays: list[np.ndarray]) -> np.ndarray:
    cell = np.empty((1, len(arrays)), dtype=object)
    for i, a in enumerate(arrays):
        cell[0, i] = a
    return cell


# ---------------------------------------------------------------------------------------------------------------
# Real UCSD Ped2
# ---------------------------------------------------------------------------------------------------------------


def test_ped2_real_benchmark_counts(ped2_root):
    bench = load_benchmark("ped2", need(ped2_root))
    assert bench.name == "ped2" and bench.extra["layout"] == "memae"
    assert [s.name for s in bench.test] == [f"{i:02d}" for i in range(1, 13)]
    assert len(bench.train) == 16 and len(bench.test) == 12
    assert [s.count_frames() for s in bench.train] == PED2_TRAIN_LENGTHS
    assert [len(x) for x in bench.test_labels] == PED2_TEST_LENGTHS
    assert bench.num_test_frames == 2010 and bench.num_anomalous == 1648
    assert bench.label_source == "UCSDped2.m"
    # Test006 is the one clip whose anomaly ends before the last frame: [1:159] of 180.
    assert bench.test_labels[5][:159].all() and not bench.test_labels[5][159:].any()
    assert np.flatnonzero(bench.test_labels[0])[0] == 60  # [61:180] is 1-based


def test_ped2_three_ground_truth_files_agree(ped2_root):
    gt = need(ped2_root / "ground_truth")
    from_m = ucsd.read_labels(gt / "UCSDped2.m", PED2_TEST_LENGTHS)
    from_mat = ucsd.read_labels(gt / "ped2.mat", PED2_TEST_LENGTHS)
    from_npy = ucsd.read_labels(gt / "frame_labels_ped2.npy", PED2_TEST_LENGTHS)
    assert len(from_m) == len(from_mat) == len(from_npy) == 12
    for a, b, c in zip(from_m, from_mat, from_npy):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert sum(int(x.sum()) for x in from_m) == 1648
    # The loader accepts each file explicitly and gives the same labels.
    bench = load_benchmark("ucsd_ped2", ped2_root, labels=gt / "ped2.mat")
    assert bench.label_source == "ped2.mat"
    for a, b in zip(bench.test_labels, from_m):
        np.testing.assert_array_equal(a, b)


def test_ped2_pixel_masks_match_frame_labels(ped2_root):
    bench = load_benchmark("ped2", need(ped2_root))
    for i in (5, 8):  # Test006 (partial anomaly) and Test009 (shortest clip)
        masks = bench.load_pixel_mask(i)
        assert masks.shape == (PED2_TEST_LENGTHS[i], 240, 360) and masks.dtype == bool
        np.testing.assert_array_equal(masks.reshape(len(masks), -1).any(axis=1), bench.test_labels[i])


def test_decode_real_ped2_test_clip_is_pixel_exact(ped2_root):
    clip = need(ped2_root / "frames" / "testing" / "09.mkv")
    frames = load_frames(clip)
    assert frames.shape == (120, 240, 360) and frames.dtype == np.uint8
    manifest = json.loads((ped2_root / "frames" / "manifest.json").read_text())
    assert hashlib.sha1(np.ascontiguousarray(frames).tobytes()).hexdigest() == manifest["testing/09"]["raw_sha1"]


def test_decode_real_ped2_clip_shape_180_frames(ped2_root):
    src = open_video(need(ped2_root / "frames" / "testing" / "01.mkv"))
    assert isinstance(src, VideoFile) and src.frame_size == (240, 360)
    assert src.count_frames() == 180  # packets only
    frames = np.stack(list(src.iter_frames()))
    assert frames.shape == (180, 240, 360) and frames.dtype == np.uint8
    assert src.num_frames == 180


# ---------------------------------------------------------------------------------------------------------------
# Real Avenue / ShanghaiTech ground truth
# ---------------------------------------------------------------------------------------------------------------


def test_avenue_real_label_sets(avenue_root):
    root = need(avenue_root)
    vol = avenue.load_test_labels(root, "volLabel")
    mnad = avenue.load_test_labels(root, "mnad")
    assert [len(x) for x in vol] == AVENUE_LENGTHS
    assert [len(x) for x in mnad] == AVENUE_LENGTHS
    assert sum(map(len, vol)) == 15324
    assert sum(int(x.sum()) for x in vol) == 3712
    assert sum(int(x.sum()) for x in mnad) == 3867
    differ = sum(not np.array_equal(a, b) for a, b in zip(vol, mnad))
    assert differ == 15
    assert int(vol[7].sum()) == 36 and int(mnad[7].sum()) == 10  # video 8, as the README says


def test_avenue_real_vollabel_mat_matches_frame_labels(avenue_root):
    folder = need(avenue_root / "ground_truth_demo" / "testing_label_mask")
    vol = avenue.load_test_labels(avenue_root, "volLabel")
    for n in (8, 21):  # the two smallest files: the large ones take seconds to decompress
        labels = avenue.read_vol_label(folder / f"{n}_label.mat")
        np.testing.assert_array_equal(labels, vol[n - 1])
    masks = avenue.read_vol_label(folder / "21_label.mat", masks=True)
    assert masks.shape == (76, 360, 640) and masks.dtype == bool


def test_avenue_without_frames_names_the_missing_folder(avenue_root):
    with pytest.raises(DataError, match="testing_videos"):
        load_benchmark("avenue", need(avenue_root))


def test_shanghaitech_real_labels(shanghai_root):
    root = need(shanghai_root)
    per_video = shanghaitech.load_test_labels(root)
    assert isinstance(per_video, dict) and len(per_video) == 107
    assert sum(map(len, per_video.values())) == 40791
    assert sum(int(x.sum()) for x in per_video.values()) == 17326
    assert len({name[:2] for name in per_video}) == 12
    mnad = shanghaitech.load_test_labels(root, "mnad")
    assert len(mnad) == 107
    for a, b in zip(mnad, per_video.values()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(DataError, match="testing/frames"):
        load_benchmark("shanghaitech", root)


# ---------------------------------------------------------------------------------------------------------------
# Sources, frame cache
# ---------------------------------------------------------------------------------------------------------------


def test_synthetic_video_round_trip_and_cache(tmp_path, monkeypatch):
    frames = ramp_video()
    path = write_video(tmp_path / "clip.mkv", frames, fps=10, codec="ffv1")  # lossless grey
    src = open_video(path)
    assert isinstance(src, VideoFile) and src.name == "clip" and src.count_frames() == 20
    np.testing.assert_array_equal(load_frames(src), frames)

    cache = tmp_path / "cache"
    decodes = []
    real_iter = VideoFile.iter_frames

    def counting_iter(self):
        decodes.append(self.path)
        yield from real_iter(self)

    monkeypatch.setattr(VideoFile, "iter_frames", counting_iter)
    first = load_frames(path, size=(16, 24), cache_dir=cache)
    assert len(decodes) == 1 and first.shape == (20, 16, 24) and first.dtype == np.uint8
    expected = np.stack([np.asarray(Image.fromarray(f).resize((24, 16), Image.Resampling.BILINEAR)) for f in frames])
    np.testing.assert_array_equal(first, expected)
    assert len(list(cache.glob("*.npy"))) == 1

    second = load_frames(open_video(path), size=(16, 24), cache_dir=cache)
    assert len(decodes) == 1, "the second call must read the cache, not decode"
    assert isinstance(second, np.memmap)
    np.testing.assert_array_equal(second, expected)

    load_frames(path, size=(8, 12), cache_dir=cache)  # another size is another entry
    assert len(decodes) == 2 and len(list(cache.glob("*.npy"))) == 2

    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # a changed file is decoded again
    load_frames(path, size=(16, 24), cache_dir=cache)
    assert len(decodes) == 3


def test_lossy_mp4_round_trip(tmp_path):
    frames = ramp_video()
    path = write_video(tmp_path / "clip.mp4", frames, codec="libx264")
    out = load_frames(path)
    assert out.shape == frames.shape
    assert np.abs(out.astype(int) - frames).mean() < 2.0


def test_frame_folder_orders_by_number_and_skips_junk(tmp_path):
    frames = ramp_video(n=12, h=10, w=14)
    write_frames(tmp_path / "vid", frames, pattern="frame{}.png", start=1)  # frame1 ... frame12, not zero-padded
    (tmp_path / "vid" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "vid" / "._frame1.png").write_bytes(b"mac fork")
    (tmp_path / "vid" / "notes.txt").write_text("not a frame")
    src = open_video(tmp_path / "vid")
    assert isinstance(src, FrameFolder) and src.num_frames == 12
    np.testing.assert_array_equal(np.stack(list(src.iter_frames())), frames)
    cache = tmp_path / "cache"
    np.testing.assert_array_equal(load_frames(src, cache_dir=cache), frames)
    assert isinstance(load_frames(src, cache_dir=cache), np.memmap)
    assert sorted(["b10", "b9", "a"], key=natural_key) == ["b9", "b10", "a"]


def test_colour_frames_become_grey(tmp_path):
    rgb = np.zeros((2, 4, 6, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    grey = np.stack(list(iter_frames(ArrayVideo(rgb))))
    assert grey.shape == (2, 4, 6)
    assert np.all(grey == np.asarray(Image.fromarray(rgb[0]).convert("L")))


def test_open_video_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.mp4"):
        open_video(tmp_path / "nope.mp4")
    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"this is not a video" * 10)
    with pytest.raises(DataError, match="broken.avi"):
        open_video(bad)
    txt = tmp_path / "notes.txt"
    txt.write_text("x")
    with pytest.raises(DataError, match="notes.txt"):
        open_video(txt)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        open_video(tmp_path / "empty")
    corrupt = tmp_path / "frames" / "000.png"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="000.png"):
        load_frames(tmp_path / "frames")


# ---------------------------------------------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------------------------------------------


def test_clip_dataset_items_index_and_scaling():
    a = ramp_video(n=20, h=6, w=8)
    b = np.zeros((18, 6, 8), dtype=np.uint8)
    b[:, 0, 0] = 255
    ds = ClipDataset([a, b], clip_len=16, stride=2)
    assert ds.clips_per_video == [3, 2] and len(ds) == 5
    np.testing.assert_array_equal(ds.index, [[0, 0], [0, 2], [0, 4], [1, 0], [1, 2]])
    x = ds[2]
    assert x.dtype == torch.float32 and x.shape == (1, 16, 6, 8)
    torch.testing.assert_close(x[0], torch.from_numpy(a[4:20].astype(np.float32)) / 127.5 - 1)
    y = ds[4]
    assert y.max().item() == 1.0 and y.min().item() == -1.0
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch.shape == (4, 1, 16, 6, 8)


def test_clip_dataset_rejects_short_and_mismatched_videos():
    with pytest.raises(DataError, match="Test007.*shorter than one clip of 16"):
        ClipDataset([ramp_video(20, 4, 4), ramp_video(10, 4, 4)], clip_len=16, names=["Test001", "Test007"])
    with pytest.raises(DataError, match="b.*frame size"):
        ClipDataset([ramp_video(16, 4, 4), ramp_video(16, 4, 6)], names=["a", "b"])


def test_iter_clips_matches_clip_dataset():
    video = ramp_video(n=30, h=5, w=7)
    for stride in (1, 3):
        ds = ClipDataset([video], clip_len=8, stride=stride)
        streamed = list(iter_clips(iter(video), clip_len=8, stride=stride))
        assert [s for s, _ in streamed] == ds.starts.tolist()
        for i, (_, clip) in enumerate(streamed):
            assert clip.shape == (8, 5, 7) and clip.dtype == np.uint8
            torch.testing.assert_close(ds[i], torch.from_numpy(clip.astype(np.float32)).unsqueeze(0) / 127.5 - 1)


def test_iter_clips_is_lazy_and_memory_bounded():
    pulled = 0

    def frames(n=300, h=128, w=128):
        nonlocal pulled
        for t in range(n):
            pulled += 1
            yield np.full((h, w), t % 256, dtype=np.uint8)

    clip_len = 4
    tracemalloc.start()
    try:
        for start, clip in iter_clips(frames(), clip_len=clip_len):
            # When the clip starting at `start` comes out, only its last frame has been read so far.
            assert pulled == start + clip_len
            assert clip[0, 0, 0] == start % 256
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    frame_bytes = 128 * 128
    assert pulled == 300
    # buffer (clip_len frames) + the clip handed out + a frame in flight; the whole video would be 300 frames
    assert peak < (3 * clip_len + 4) * frame_bytes


def test_streaming_pipeline_from_video_file(tmp_path):
    frames = ramp_video(n=20, h=16, w=16)
    path = write_video(tmp_path / "v.avi", frames)
    clips = list(iter_clips(iter_frames(path, size=(8, 8)), clip_len=16, stride=2))
    assert [s for s, _ in clips] == [0, 2, 4]
    np.testing.assert_array_equal(clips[-1][1], load_frames(path, size=(8, 8))[4:20])


# ---------------------------------------------------------------------------------------------------------------
# Tiny dataset trees
# ---------------------------------------------------------------------------------------------------------------


def make_ucsd_original(root: Path) -> Path:
    """UCSDped1/{Train,Test} with .tif frames, a .m ground truth and one TestNNN_gt mask folder."""
    base = root / "UCSDped1"
    for i, n in enumerate((20, 18), start=1):
        write_frames(base / "Train" / f"Train{i:03d}", ramp_video(n, 8, 12), pattern="{:03d}.tif", start=1)
    write_frames(base / "Test" / "Test001", ramp_video(20, 8, 12), pattern="{:03d}.tif", start=1)
    write_frames(base / "Test" / "Test002", ramp_video(18, 8, 12), pattern="{:03d}.tif", start=1)
    (base / "Test" / "UCSDped1.m").write_text(
        "TestVideoFile = {};\n"
        "% a comment [1:2] that must be ignored\n"
        "TestVideoFile{end+1}.gt_frame = [5:9, 15:18];\n"
        "TestVideoFile{end+1}.gt_frame = [1:18];\n"
    )
    masks = np.zeros((20, 8, 12), dtype=np.uint8)
    masks[4:9, 2:4, 3:5] = 255
    masks[14:18, 0, 0] = 255
    write_frames(base / "Test" / "Test001_gt", masks, pattern="frame{:03d}.bmp", start=1)
    return base


def test_ucsd_original_layout(tmp_path):
    make_ucsd_original(tmp_path)
    bench = load_benchmark("ped1", tmp_path)  # root above UCSDped1 works too
    assert bench.extra["layout"] == "original" and bench.label_source == "UCSDped1.m"
    assert [s.name for s in bench.train] == ["Train001", "Train002"]
    assert [s.name for s in bench.test] == ["Test001", "Test002"]  # Test001_gt is not a video
    expected = np.zeros(20, dtype=bool)
    expected[4:9] = expected[14:18] = True
    np.testing.assert_array_equal(bench.test_labels[0], expected)
    assert bench.test_labels[1].all() and len(bench.test_labels[1]) == 18
    masks = bench.load_pixel_mask(0)
    assert masks.shape == (20, 8, 12)
    np.testing.assert_array_equal(masks.reshape(20, -1).any(axis=1), expected)
    assert bench.load_pixel_mask(1) is None
    np.testing.assert_array_equal(load_frames(bench.test[1]), ramp_video(18, 8, 12))


def test_ucsd_label_out_of_range_names_the_m_file(tmp_path):
    base = make_ucsd_original(tmp_path)
    (base / "Test" / "UCSDped1.m").write_text(
        "TestVideoFile{end+1}.gt_frame = [5:9];\nTestVideoFile{end+1}.gt_frame = [1:25];\n"
    )
    with pytest.raises(DataError, match=r"UCSDped1\.m \(test video 2\).*outside the video's 18 frames"):
        load_benchmark("ped1", base)


def test_ucsd_jpeg_layout_with_mat_and_npy(tmp_path):
    for i in (1, 2):
        write_frames(tmp_path / "training" / "frames" / f"{i:02d}", ramp_video(17, 6, 6), pattern="{:03d}.jpg")
    write_frames(tmp_path / "testing" / "frames" / "01", ramp_video(20, 6, 6), pattern="{:03d}.jpg")
    write_frames(tmp_path / "testing" / "frames" / "02", ramp_video(16, 6, 6), pattern="{:03d}.jpg")
    gt = mat_cell([np.array([[3], [7]], dtype=np.uint8), np.array([[1, 10], [2, 16]], dtype=np.uint8)])
    scipy.io.savemat(tmp_path / "ped2.mat", {"gt": gt})
    bench = load_benchmark("ped2", tmp_path)
    assert bench.extra["layout"] == "jpeg" and bench.label_source == "ped2.mat"
    np.testing.assert_array_equal(np.flatnonzero(bench.test_labels[0]), [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(np.flatnonzero(bench.test_labels[1]), [0, 1, 9, 10, 11, 12, 13, 14, 15])
    flat = np.concatenate(bench.test_labels).astype(np.int64)[None]
    np.save(tmp_path / "labels.npy", flat)
    again = load_benchmark("ped2", tmp_path, labels=tmp_path / "labels.npy")
    for a, b in zip(again.test_labels, bench.test_labels):
        np.testing.assert_array_equal(a, b)
    np.save(tmp_path / "short.npy", flat[:, :-1])
    with pytest.raises(DataError, match="short.npy.*35 frame labels.*36 frames"):
        load_benchmark("ped2", tmp_path, labels=tmp_path / "short.npy")


def test_ucsd_missing_folders_and_ground_truth(tmp_path):
    with pytest.raises(DataError, match="no UCSD Ped2 frames"):
        load_benchmark("ped2", tmp_path)
    write_frames(tmp_path / "training" / "frames" / "01", ramp_video(4, 4, 4))
    with pytest.raises(DataError, match=r"testing/frames: folder not found"):
        load_benchmark("ped2", tmp_path)
    write_frames(tmp_path / "testing" / "frames" / "01", ramp_video(4, 4, 4))
    with pytest.raises(DataError, match="no ground truth"):
        load_benchmark("ped2", tmp_path)
    with pytest.raises(DataError, match="missing.m"):
        load_benchmark("ped2", tmp_path, labels=tmp_path / "missing.m")
    with pytest.raises(UnknownNameError, match="ped2"):
        load_benchmark("ped3", tmp_path)


def make_avenue(root: Path) -> list[np.ndarray]:
    write_frames(root / "training_videos" / "01", ramp_video(12, 6, 10))
    write_video(root / "testing_videos" / "01.avi", ramp_video(10, 6, 10))
    write_video(root / "testing_videos" / "02.avi", ramp_video(7, 6, 10))
    vols = [np.zeros((6, 10), np.uint8) for _ in range(10)], [np.zeros((6, 10), np.uint8) for _ in range(7)]
    vols[0][3][1, 1] = 1
    vols[0][4][5, 9] = 1
    vols[1][6][0, 0] = 1
    folder = root / "testing_label_mask"
    folder.mkdir()
    for i, v in enumerate(vols, start=1):
        scipy.io.savemat(folder / f"{i}_label.mat", {"volLabel": mat_cell(v)})
    return [np.array([m.any() for m in v]) for v in vols]


def test_avenue_tiny_tree_both_label_sets(tmp_path):
    expected = make_avenue(tmp_path)
    bench = load_benchmark("avenue", tmp_path)
    assert bench.label_source.startswith("volLabel")
    assert [len(x) for x in bench.test_labels] == [10, 7]
    for a, b in zip(bench.test_labels, expected):
        np.testing.assert_array_equal(a, b)
    masks = bench.load_pixel_mask(0)
    assert masks.shape == (10, 6, 10) and masks.sum() == 2
    mnad = np.zeros((1, 17), dtype=np.int8)
    mnad[0, 2:6] = 1
    np.save(tmp_path / "frame_labels_avenue.npy", mnad)
    other = load_benchmark("avenue", tmp_path, labels="mnad")
    assert other.label_source == "mnad (frame_labels_avenue.npy)"
    np.testing.assert_array_equal(np.flatnonzero(other.test_labels[0]), [2, 3, 4, 5])
    assert not other.test_labels[1].any()


def test_avenue_label_length_mismatch_names_the_video(tmp_path):
    make_avenue(tmp_path)
    write_video(tmp_path / "testing_videos" / "02.avi", ramp_video(9, 6, 10))  # labels say 7 frames
    with pytest.raises(DataError, match=r"02\.avi: 9 frames but the ground truth .* has 7 labels"):
        load_benchmark("avenue", tmp_path)


def test_shanghaitech_tiny_tree(tmp_path):
    write_frames(tmp_path / "training" / "frames" / "01_001", ramp_video(5, 4, 6))
    for name, n in (("01_0014", 6), ("02_0128", 4)):
        write_frames(tmp_path / "testing" / "frames" / name, ramp_video(n, 4, 6), pattern="{:03d}.jpg")
    masks = tmp_path / "testing" / "test_frame_mask"
    masks.mkdir()
    np.save(masks / "01_0014.npy", np.array([0, 0, 1, 1, 0, 0], np.uint8))
    np.save(masks / "02_0128.npy", np.array([1, 0, 0, 0], np.uint8))
    bench = load_benchmark("shanghaitech", tmp_path)
    assert bench.test_names == ["01_0014", "02_0128"] and bench.num_anomalous == 3
    assert bench.label_source == "test_frame_mask" and bench.pixel_masks is None
    (masks / "02_0128.npy").unlink()
    np.save(masks / "02_0129.npy", np.array([1, 0, 0, 0], np.uint8))
    with pytest.raises(DataError, match="02_0128: no frame labels"):
        load_benchmark("shanghaitech", tmp_path)


def test_split_concatenated_checks_total():
    parts = split_concatenated(np.array([[0, 1, 1, 0, 1]]), [2, 3], "x.npy")
    assert [p.tolist() for p in parts] == [[False, True], [True, False, True]]
    with pytest.raises(DataError, match="x.npy: 5 frame labels"):
        split_concatenated(np.zeros(5), [2, 2], "x.npy")


def _bframe_video(path, first_pts=0, n=40, bf=2, fmt=None, rate=10, pts_step=1):
    """A small mpeg4 video with B-frames (``bf``) whose first timestamp is ``first_pts``; a moving bar."""
    import av

    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        if bf:
            stream.codec_context.options = {"bf": str(bf)}
            stream.codec_context.max_b_frames = bf
        for i in range(n):
            image = np.zeros((32, 32, 3), np.uint8)
            image[:, (3 * i) % 32] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts = first_pts + i * pts_step
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".avi", ".mp4", ".mkv"])
@pytest.mark.parametrize("first_pts", [0, 1])
def test_bframes_and_late_first_timestamp_are_not_damage(tmp_path, suffix, first_pts):
    pytest.importorskip("av")
    from memae.data.video import VideoFile

    n = 40
    video = VideoFile(_bframe_video(tmp_path / f"b{first_pts}{suffix}", first_pts=first_pts, n=n))
    indices = [i for i, _ in video.iter_indexed_frames()]
    assert video.damage is None, video.damage.summary()
    assert indices == list(range(n))


def test_bframe_video_cut_short_still_reports_the_lost_end(tmp_path):
    pytest.importorskip("av")
    from memae.data.video import VideoFile

    path = _bframe_video(tmp_path / "b.mkv", first_pts=1, n=60)
    data = path.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    video = VideoFile(tmp_path / "cut.mkv")
    indices = [i for i, _ in video.iter_indexed_frames()]
    assert video.damage is not None and video.damage.lost > 0
    assert video.damage.gaps[-1][1] == 59 and all(b > a for a, b in zip(indices, indices[1:]))


def _vfr_video(path, intervals_ms):
    """An H.264-free (mpeg4) MKV whose frames sit at irregular timestamps (variable frame rate, ~10 fps nominal)."""
    import av
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        pts = 0
        for i, step in enumerate(intervals_ms):
            image = np.zeros((32, 32, 3), np.uint8)
            image[:, (3 * i) % 32] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += step
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_variable_frame_rate_video_is_not_damage(tmp_path):
    """Issue 23 item 3: a clean variable-frame-rate file decodes every frame, in order, and is not called damaged."""
    pytest.importorskip("av")
    from memae.data.video import VideoFile

    intervals = [100, 100, 140, 70, 100, 130, 90, 100, 60, 150] * 4  # jitter around 10 fps, no frame missing
    video = VideoFile(_vfr_video(tmp_path / "vfr.mkv", intervals))
    indices = [i for i, _ in video.iter_indexed_frames()]
    assert video.damage is None, video.damage.summary()
    assert len(indices) == len(intervals) and all(b > a for a, b in zip(indices, indices[1:]))


def test_variable_frame_rate_video_cut_short_is_still_damage(tmp_path):
    pytest.importorskip("av")
    from memae.data.video import VideoFile

    path = _vfr_video(tmp_path / "vfr.mkv", [100, 100, 140, 70, 100, 130, 90, 100, 60, 150] * 6)
    data = path.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    video = VideoFile(tmp_path / "cut.mkv")
    indices = [i for i, _ in video.iter_indexed_frames()]
    assert video.damage is not None and video.damage.lost > 10
    assert all(b > a for a, b in zip(indices, indices[1:]))
