"""CUHK Avenue (Lu, Shi, Jia, ICCV 2013): 16 training and 21 test videos, 640x360.

Frames under the data root, either layout:

* original release: ``training_videos/NN.avi``, ``testing_videos/NN.avi`` (or frame folders there);
* ano_pred/MNAD JPEG layout: ``training/frames/NN/NNNN.jpg``, ``testing/frames/NN/NNNN.jpg``
  (also ``frames/{training,testing}/``).

Two frame-label sets exist and they differ in 15 of 21 videos, so pick one deliberately (``labels=``):

* ``"volLabel"`` (default): the original ``testing_label_mask/N_label.mat`` files (``volLabel`` cell of one
  360x640 0/1 mask per frame; a frame is anomalous iff any mask pixel is set), 3712 of 15324 frames.
  A per-video ``.npz`` of these frame labels (``avenue_frame_labels_from_volLabel.npz``, keys
  ``video_01``...) is used instead when present, because the masks take ~15 s to decompress.
* ``"mnad"``: MNAD's ``frame_labels_avenue.npy`` (concatenated 0/1, from ano_pred's ``avenue.mat``) or that
  ``avenue.mat`` itself (``gt`` cell of ``[start; end]``), 3867 anomalous frames.

``labels`` may also be a path to any of these files (or to the ``testing_label_mask`` folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from memae.data.video import (
    MaskLoader,
    VideoBenchmark,
    VideoSource,
    attach_labels,
    find_first,
    intervals_to_labels,
    list_videos,
    natural_key,
    read_interval_mat,
    split_concatenated,
)
from memae.errors import DataError

LABEL_SETS = ("volLabel", "mnad")
_VOL_NPZ = "avenue_frame_labels_from_volLabel.npz"
_MNAD_FILES = ("frame_labels_avenue.npy", "frame_labels_avenue_MNAD.npy", "avenue.mat")
_LENGTHS_JSON = "avenue_test_lengths.json"


def read_vol_label(path: str | os.PathLike[str], masks: bool = False) -> np.ndarray:
    """Read one ``N_label.mat``: bool frame labels ``(T,)`` (any mask pixel set), or the masks ``(T, H, W)``.

    Only one file's masks are held at a time (the longest video decompresses to ~330 MB).
    """
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, variable_names=["volLabel"])
    except (OSError, ValueError, NotImplementedError) as exc:
        raise DataError(f"{path}: cannot read this .mat file ({exc}); expected an Avenue N_label.mat") from exc
    if "volLabel" not in mat:
        raise DataError(f"{path}: no 'volLabel' variable; expected an Avenue testing_label_mask/N_label.mat file")
    cells = np.asarray(mat.pop("volLabel"), dtype=object).reshape(-1)
    if masks:
        return np.stack([np.asarray(c) != 0 for c in cells])
    return np.array([bool(np.any(c)) for c in cells], dtype=bool)


def vol_label_files(folder: str | os.PathLike[str]) -> list[Path]:
    """``N_label.mat`` files of a ``testing_label_mask`` folder, ordered by N."""
    folder = Path(folder)
    files = sorted(folder.glob("*_label.mat"), key=lambda p: natural_key(p.name.replace("_label", "")))
    if not files:
        raise DataError(f"{folder}: no N_label.mat files; expected Avenue's testing_label_mask folder")
    return files


def find_frames(root: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The training and test video folders under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data root not found; point --data-root at the CUHK Avenue folder")
    pairs = [("training_videos", "testing_videos"), ("training/frames", "testing/frames"),
             ("frames/training", "frames/testing")]
    for train, test in pairs:
        train_dir, test_dir = root / train, root / test
        if train_dir.is_dir() or test_dir.is_dir():
            for d in (train_dir, test_dir):
                if not d.is_dir():
                    raise DataError(f"{d}: folder not found; the Avenue copy at {root} is incomplete")
            return train_dir, test_dir
    raise DataError(
        f"{root}: no Avenue videos found (looked for training_videos/ + testing_videos/, training/frames/ + "
        "testing/frames/); point --data-root at the CUHK Avenue folder"
    )


def load_test_labels(
    root: str | os.PathLike[str], labels: str | os.PathLike[str] = "volLabel", lengths: list[int] | None = None
) -> list[np.ndarray]:
    """Per-test-video bool frame labels, without needing the frames.

    ``lengths`` (frames per test video) is needed only to split a concatenated MNAD ``.npy``; when None it
    comes from ``avenue_test_lengths.json`` or the volLabel ground truth if present.
    """
    return resolve_labels(Path(root), labels, lengths)[0]


def resolve_labels(
    root: Path, labels: str | os.PathLike[str], lengths: list[int] | None
) -> tuple[list[np.ndarray], str]:
    """Find and read the requested label set: returns ``(per-video labels, description of the source)``."""
    dirs = _gt_dirs(root)
    key = str(labels)
    if key.lower() == "vollabel":
        npz = find_first(d / _VOL_NPZ for d in dirs)
        if npz is not None:
            return _read_npz(npz), f"volLabel ({npz.name})"
        folder = _find_mask_folder(dirs)
        if folder is None:
            raise DataError(
                f"{root}: no testing_label_mask/ folder of N_label.mat files (volLabel ground truth); "
                "pass labels='mnad' or a ground-truth path"
            )
        return [read_vol_label(f) for f in vol_label_files(folder)], f"volLabel ({folder.name})"
    if key.lower() == "mnad":
        path = find_first(d / n for n in _MNAD_FILES for d in dirs)
        if path is None:
            raise DataError(f"{root}: no MNAD labels ({', '.join(_MNAD_FILES)}); pass labels='volLabel' or a path")
        return _read_file(root, path, lengths), f"mnad ({path.name})"
    path = Path(labels)
    if not path.exists():
        raise DataError(f"{path}: ground truth not found; pass labels='volLabel', 'mnad' or an existing file")
    return _read_file(root, path, lengths), path.name


def load_avenue(root: str | os.PathLike[str], labels: str | os.PathLike[str] = "volLabel") -> VideoBenchmark:
    """Load CUHK Avenue from ``root`` with the chosen label set (see the module docstring)."""
    root = Path(root)
    train_dir, test_dir = find_frames(root)
    train, test = list_videos(train_dir), list_videos(test_dir)
    lengths = [s.count_frames() for s in test]
    per_video, source = resolve_labels(root, labels, lengths)
    test_labels = attach_labels(test, per_video, source)
    return VideoBenchmark(
        name="avenue",
        root=root,
        train=train,
        test=test,
        test_labels=test_labels,
        label_source=source,
        pixel_masks=_pixel_masks(root, test),
    )


def _read_file(root: Path, path: Path, lengths: list[int] | None) -> list[np.ndarray]:
    if path.is_dir():
        return [read_vol_label(f) for f in vol_label_files(path)]
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".mat":
        if path.name.endswith("_label.mat"):
            return [read_vol_label(path)]
        intervals = read_interval_mat(path)
        lengths = lengths if lengths is not None else _lengths(root, path)
        if len(intervals) != len(lengths):
            raise DataError(f"{path}: ground truth for {len(intervals)} videos but {len(lengths)} test videos")
        return [
            intervals_to_labels(iv, n, f"{path} (video {i + 1})") for i, (iv, n) in enumerate(zip(intervals, lengths))
        ]
    if suffix == ".npy":
        try:
            flat = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot read this .npy file ({exc}); expected concatenated frame labels") from exc
        return split_concatenated(flat, lengths if lengths is not None else _lengths(root, path), str(path))
    raise DataError(f"{path}: unknown ground-truth type; expected N_label.mat files, an .npz, .npy or avenue.mat")


def _read_npz(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return [data[k].reshape(-1).astype(bool) for k in sorted(data.files, key=natural_key)]


def _lengths(root: Path, needed_by: Path) -> list[int]:
    """Test-video lengths when the frames are absent: the lengths json, else the volLabel ground truth."""
    dirs = _gt_dirs(root)
    js = find_first(d / _LENGTHS_JSON for d in dirs)
    if js is not None:
        return [int(n) for n in json.loads(js.read_text())["n_frames"]]
    npz = find_first(d / _VOL_NPZ for d in dirs)
    if npz is not None:
        return [len(x) for x in _read_npz(npz)]
    folder = _find_mask_folder(dirs)
    if folder is not None:
        return [len(read_vol_label(f)) for f in vol_label_files(folder)]
    raise DataError(f"{needed_by}: cannot split these labels per video without the test videos or their lengths")


def _find_mask_folder(dirs: list[Path]) -> Path | None:
    return find_first(
        d / sub for d in dirs for sub in ("testing_label_mask", "ground_truth_demo/testing_label_mask")
    )


def _pixel_masks(root: Path, test: list[VideoSource]) -> list[MaskLoader | None] | None:
    folder = _find_mask_folder(_gt_dirs(root))
    if folder is None:
        return None
    files = {natural_key(f.name.replace("_label", ""))[1]: f for f in vol_label_files(folder)}
    loaders: list[MaskLoader | None] = []
    for i, _src in enumerate(test):
        f = files.get(i + 1)
        loaders.append(None if f is None else (lambda f=f: read_vol_label(f, masks=True)))
    return loaders


def _gt_dirs(root: Path) -> list[Path]:
    return [d for d in (root, root / "ground_truth", root / "data", root.parent) if d.is_dir()]
