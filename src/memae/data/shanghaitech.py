"""ShanghaiTech Campus (Luo, Liu, Gao, ICCV 2017): 330 training videos, 107 test videos in 12 scenes.

Layout of the official release under the data root:

* ``training/videos/SS_NNN.avi`` (or frame folders in ``training/frames/SS_NNN/``);
* ``testing/frames/SS_NNNN/NNN.jpg`` (or ``testing/videos/``, or ``frames/testing/``);
* frame ground truth ``testing/test_frame_mask/SS_NNNN.npy`` (0/1 per frame, matched to test videos by
  name), pixel masks ``testing/test_pixel_mask/SS_NNNN.npy``;
* or MNAD's concatenated ``frame_labels_shanghai.npy`` (same labels in sorted name order).

The test set has 40791 frames, 17326 anomalous.
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
    check_label_length,
    find_first,
    list_videos,
    split_concatenated,
)
from memae.errors import DataError

_MNAD_FILES = ("frame_labels_shanghai.npy", "frame_labels_shanghai_MNAD.npy", "frame_labels_shanghaitech.npy")
_LENGTHS_JSON = "shanghaitech_test_lengths.json"


def find_frames(root: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The training and test video folders under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data root not found; point --data-root at the ShanghaiTech folder")
    test_dir = find_first(root / d for d in ("testing/frames", "testing/videos", "frames/testing"))
    train_dir = find_first(root / d for d in ("training/videos", "training/frames", "frames/training"))
    if test_dir is None:
        raise DataError(
            f"{root / 'testing' / 'frames'}: folder not found (no ShanghaiTech test frames under {root}); "
            "point --data-root at the ShanghaiTech folder that holds training/ and testing/"
        )
    if train_dir is None:
        raise DataError(
            f"{root / 'training' / 'videos'}: folder not found; the ShanghaiTech copy at {root} is incomplete"
        )
    return train_dir, test_dir


def read_frame_masks(folder: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """All ``SS_NNNN.npy`` frame-label files of a ``test_frame_mask`` folder: name -> bool ``(T,)``."""
    folder = Path(folder)
    files = sorted(folder.glob("*.npy"), key=lambda p: p.name)
    if not files:
        raise DataError(f"{folder}: no .npy frame masks; expected ShanghaiTech's test_frame_mask folder")
    out = {}
    for f in files:
        try:
            out[f.stem] = np.load(f, allow_pickle=False).reshape(-1).astype(bool)
        except (OSError, ValueError) as exc:
            raise DataError(f"{f}: cannot read this .npy file ({exc}); expected 0/1 frame labels") from exc
    return out


def load_test_labels(
    root: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None, lengths: list[int] | None = None
) -> dict[str, np.ndarray] | list[np.ndarray]:
    """Test frame labels without needing the frames.

    Per-video ``test_frame_mask`` files give a dict name -> bool ``(T,)`` (sorted by name). A concatenated
    MNAD ``.npy`` (``labels="mnad"`` or a path) gives a list split by ``lengths`` (default: from
    ``shanghaitech_test_lengths.json`` or the ``test_frame_mask`` files).
    """
    return resolve_labels(Path(root), labels, lengths)[0]


def resolve_labels(
    root: Path, labels: str | os.PathLike[str] | None, lengths: list[int] | None
) -> tuple[dict[str, np.ndarray] | list[np.ndarray], str]:
    """Find and read the requested labels: ``(dict by name or list in order, description of the source)``."""
    dirs = _gt_dirs(root)
    key = None if labels is None else str(labels).lower()
    if key in (None, "auto", "frame_mask", "test_frame_mask"):
        folder = find_first(d / "test_frame_mask" for d in dirs)
        if folder is not None:
            return read_frame_masks(folder), "test_frame_mask"
        if key not in (None, "auto"):
            raise DataError(f"{root}: no test_frame_mask/ folder found; pass labels='mnad' or a path")
        key = "mnad"
    if key == "mnad":
        path = find_first(d / n for n in _MNAD_FILES for d in dirs)
        if path is None:
            raise DataError(f"{root}: no ShanghaiTech frame labels (test_frame_mask/ or {_MNAD_FILES[0]}) found")
    else:
        path = Path(labels)  # type: ignore[arg-type]
        if not path.exists():
            raise DataError(f"{path}: ground truth not found; pass a test_frame_mask folder or an .npy file")
        if path.is_dir():
            return read_frame_masks(path), path.name
    try:
        flat = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read this .npy file ({exc}); expected concatenated frame labels") from exc
    if lengths is None:
        lengths = _lengths(root, path)
    return split_concatenated(flat, lengths, str(path)), f"mnad ({path.name})"


def load_shanghaitech(root: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None) -> VideoBenchmark:
    """Load ShanghaiTech Campus from ``root`` (see the module docstring for the layout)."""
    root = Path(root)
    train_dir, test_dir = find_frames(root)
    train, test = list_videos(train_dir), list_videos(test_dir)
    lengths = [s.count_frames() for s in test]
    found, source = resolve_labels(root, labels, lengths)
    if isinstance(found, dict):
        missing = [s.name for s in test if s.name not in found]
        if missing:
            raise DataError(
                f"{test_dir / missing[0]}: no frame labels for this test video in {source} "
                f"({len(missing)} videos without labels); check that the frames and ground truth belong together"
            )
        per_video = [found[s.name] for s in test]
    else:
        if len(found) != len(test):
            raise DataError(f"{test_dir}: {len(test)} test videos but {source} has labels for {len(found)}")
        per_video = found
    for src, lab, n in zip(test, per_video, lengths):
        check_label_length(src, lab, n, source)
    return VideoBenchmark(
        name="shanghaitech",
        root=root,
        train=train,
        test=test,
        test_labels=[np.asarray(x, dtype=bool) for x in per_video],
        label_source=source,
        pixel_masks=_pixel_masks(root, test),
    )


def _lengths(root: Path, needed_by: Path) -> list[int]:
    dirs = _gt_dirs(root)
    js = find_first(d / _LENGTHS_JSON for d in dirs)
    if js is not None:
        return [int(n) for n in json.loads(js.read_text())["n_frames"]]
    folder = find_first(d / "test_frame_mask" for d in dirs)
    if folder is not None:
        return [len(v) for v in read_frame_masks(folder).values()]
    raise DataError(f"{needed_by}: cannot split these labels per video without the test videos or their lengths")


def _pixel_masks(root: Path, test: list[VideoSource]) -> list[MaskLoader | None] | None:
    folder = find_first(d / "test_pixel_mask" for d in _gt_dirs(root))
    if folder is None:
        return None
    loaders: list[MaskLoader | None] = []
    for src in test:
        f = folder / f"{src.name}.npy"
        loaders.append((lambda f=f: np.load(f, allow_pickle=False) != 0) if f.is_file() else None)
    return loaders


def _gt_dirs(root: Path) -> list[Path]:
    cands = (root / "testing", root, root / "ground_truth", root / "data", root.parent)
    return [d for d in cands if d.is_dir()]

