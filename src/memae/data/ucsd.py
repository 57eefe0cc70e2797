"""UCSD Anomaly Detection Dataset, Ped1 and Ped2 (Mahadevan et al., CVPR 2010).

Three layouts are recognised under the data root (``N`` is 1 or 2):

* original release: ``UCSDpedN/Train/TrainNNN/NNN.tif``, ``UCSDpedN/Test/TestNNN/NNN.tif``, frame ground
  truth ``UCSDpedN/Test/UCSDpedN.m`` (1-based inclusive ranges, ``TestVideoFile{end+1}.gt_frame = [61:180];``)
  and pixel masks ``UCSDpedN/Test/TestNNN_gt/*.bmp``; the root may be ``UCSDpedN`` itself or a folder holding it;
* the ano_pred/MNAD JPEG layout: ``training/frames/NN/NNN.jpg``, ``testing/frames/NN/NNN.jpg`` with
  ``pedN.mat`` (``gt`` cell of ``[start; end]``) or MNAD's ``frame_labels_pedN.npy`` (concatenated 0/1);
* the memae shared copy: ``frames/{training,testing}/NN.mkv`` plus ``ground_truth/`` holding ``UCSDpedN.m``,
  ``pedN.mat``, ``frame_labels_pedN.npy`` and ``pedN_pixel_masks.npz`` (keys ``Test001``...).

Ground truth is looked for next to the test videos, in the root, in ``root/ground_truth`` and one level up;
the first of ``UCSDpedN.m``, ``pedN.mat``, ``frame_labels_pedN.npy`` found is used unless ``labels`` names a
file. Ped2 has 16 training clips (2550 frames) and 12 test clips (2010 frames, 1648 anomalous).  Pixel masks
(``TestNNN_gt`` folders, else ``pedN_pixel_masks.npz``) are read one test video at a time and must have one mask per
frame (:func:`read_pixel_masks`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from memae.data.video import (
    MaskLoader,
    VideoBenchmark,
    VideoSource,
    attach_labels,
    intervals_to_labels,
    list_videos,
    natural_key,
    read_image,
    read_interval_mat,
    split_concatenated,
)
from memae.errors import DataError

_GT_ASSIGN = re.compile(
    r"TestVideoFile\s*\{\s*(?:end\s*\+\s*1|\d+)\s*\}\s*\.\s*gt_frame\s*=\s*\[([^\]]*)\]", re.IGNORECASE
)


def parse_ucsd_m(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """Parse the frame ground truth of the original release (``UCSDped1.m`` / ``UCSDped2.m``).

    Each ``TestVideoFile{end+1}.gt_frame = [a:b, c:d];`` line gives one test video's anomalous frames as
    MATLAB ranges (1-based, inclusive; ``a:s:b`` steps and single numbers also work).

    Returns
    -------
    list of np.ndarray
        Per test video, in file order, the sorted 1-based anomalous frame numbers (int64).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read the UCSD ground-truth file ({exc.strerror})") from exc
    text = re.sub(r"%[^\n]*", "", text)  # MATLAB comments
    videos = []
    for match in _GT_ASSIGN.finditer(text):
        frames: list[int] = []
        for token in re.split(r"[,;\s]+", match.group(1).strip()):
            if not token:
                continue
            try:
                parts = [int(p) for p in token.split(":")]
            except ValueError as exc:
                raise DataError(f"{path}: cannot parse frame range {token!r}; expected a:b or a number") from exc
            if len(parts) == 1:
                frames.append(parts[0])
            elif len(parts) == 2:
                frames.extend(range(parts[0], parts[1] + 1))
            elif len(parts) == 3 and parts[1] != 0:
                frames.extend(range(parts[0], parts[2] + 1, parts[1]))
            else:
                raise DataError(f"{path}: cannot parse frame range {token!r}; expected a:b or a number")
        videos.append(np.unique(np.asarray(frames, dtype=np.int64)))
    if not videos:
        raise DataError(f"{path}: no 'TestVideoFile{{end+1}}.gt_frame = [...]' lines; expected the UCSD .m file")
    return videos


def frames_to_labels(frames_1based: np.ndarray, num_frames: int, where: str) -> np.ndarray:
    """bool ``(num_frames,)`` from 1-based anomalous frame numbers; ``where`` names the source in errors."""
    frames_1based = np.asarray(frames_1based, dtype=np.int64)
    if frames_1based.size and (frames_1based.min() < 1 or frames_1based.max() > num_frames):
        raise DataError(
            f"{where}: anomalous frame {int(frames_1based.max())} is outside the video's {num_frames} frames; "
            "check that the frames and ground truth belong together"
        )
    labels = np.zeros(num_frames, dtype=bool)
    labels[frames_1based - 1] = True
    return labels


def read_labels(path: str | os.PathLike[str], lengths: list[int]) -> list[np.ndarray]:
    """Per-video bool frame labels from a UCSD ground-truth file (``.m``, ano_pred ``.mat`` or MNAD ``.npy``).

    ``lengths`` are the test videos' frame counts, in order (the files give ranges, not lengths).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".m":
        per_video = parse_ucsd_m(path)
        _check_video_count(path, len(per_video), len(lengths))
        return [
            frames_to_labels(f, n, f"{path} (test video {i + 1})") for i, (f, n) in enumerate(zip(per_video, lengths))
        ]
    if suffix == ".mat":
        intervals = read_interval_mat(path)
        _check_video_count(path, len(intervals), len(lengths))
        return [
            intervals_to_labels(iv, n, f"{path} (test video {i + 1})")
            for i, (iv, n) in enumerate(zip(intervals, lengths))
        ]
    if suffix == ".npy":
        try:
            flat = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot read this .npy file ({exc}); expected MNAD frame labels") from exc
        return split_concatenated(flat, lengths, str(path))
    raise DataError(f"{path}: unknown ground-truth type; expected UCSDpedN.m, pedN.mat or frame_labels_pedN.npy")


def find_layout(root: str | os.PathLike[str], ped: int = 2) -> tuple[str, Path, Path]:
    """Locate the training and test folders: returns ``(layout, train_dir, test_dir)``.

    ``layout`` is ``"original"``, ``"jpeg"`` or ``"memae"`` (see the module docstring).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data root not found; point --data-root at the UCSD Ped{ped} folder")
    bases = [root, root / f"UCSDped{ped}", root / "UCSD_Anomaly_Dataset.v1p2" / f"UCSDped{ped}", root / f"ped{ped}"]
    layouts = [("original", "Train", "Test"), ("jpeg", "training/frames", "testing/frames"),
               ("memae", "frames/training", "frames/testing")]
    for base in bases:
        for layout, train, test in layouts:
            train_dir, test_dir = base / train, base / test
            if train_dir.is_dir() or test_dir.is_dir():
                missing = test_dir if not test_dir.is_dir() else train_dir if not train_dir.is_dir() else None
                if missing is not None:
                    raise DataError(f"{missing}: folder not found; the UCSD Ped{ped} copy at {base} is incomplete")
                return layout, train_dir, test_dir
    raise DataError(
        f"{root}: no UCSD Ped{ped} frames found (looked for UCSDped{ped}/Train+Test, training/frames+testing/frames, "
        f"frames/training+frames/testing); point --data-root at the UCSD Ped{ped} folder"
    )


def find_ground_truth(root: Path, test_dir: Path, ped: int) -> Path:
    """The first of ``UCSDpedN.m``, ``pedN.mat``, ``frame_labels_pedN.npy`` near the test videos."""
    dirs = _gt_dirs(root, test_dir)
    for name in (f"UCSDped{ped}.m", f"ped{ped}.mat", f"frame_labels_ped{ped}.npy"):
        for d in dirs:
            if (d / name).is_file():
                return d / name
    raise DataError(
        f"{test_dir}: no ground truth (UCSDped{ped}.m, ped{ped}.mat or frame_labels_ped{ped}.npy) found in "
        f"{', '.join(str(d) for d in dirs)}; pass labels=<file>"
    )


def load_ucsd(
    root: str | os.PathLike[str], ped: int = 2, labels: str | os.PathLike[str] | None = None
) -> VideoBenchmark:
    """Load UCSD Ped1 or Ped2 from ``root`` (any layout of the module docstring).

    Parameters
    ----------
    root : path
        The dataset folder.
    ped : {1, 2}
        Which subset.
    labels : path, optional
        A ground-truth file (``.m``, ``.mat`` or ``.npy``); default: the first one found.

    Raises
    ------
    DataError
        Missing folders or ground truth, unreadable files, or labels whose length differs from a video's frames.
    """
    if ped not in (1, 2):
        raise DataError(f"UCSD ped must be 1 or 2, got {ped!r}")
    root = Path(root)
    layout, train_dir, test_dir = find_layout(root, ped)
    train = list_videos(train_dir)
    test = list_videos(test_dir)
    if labels is not None and str(labels).lower() not in ("auto", "ucsd"):
        gt_path = Path(labels)
        if not gt_path.is_file():
            raise DataError(f"{gt_path}: ground-truth file not found; pass UCSDped{ped}.m, ped{ped}.mat or an .npy")
    else:
        gt_path = find_ground_truth(root, test_dir, ped)
    lengths = [s.count_frames() for s in test]
    test_labels = attach_labels(test, read_labels(gt_path, lengths), gt_path.name)
    return VideoBenchmark(
        name=f"ped{ped}",
        root=root,
        train=train,
        test=test,
        test_labels=test_labels,
        label_source=gt_path.name,
        pixel_masks=_pixel_masks(root, test_dir, test, ped, lengths),
        extra={"layout": layout, "ground_truth": str(gt_path)},
    )


def read_mask_folder(folder: str | os.PathLike[str]) -> np.ndarray:
    """bool pixel masks ``(T, H, W)`` from a ``TestNNN_gt`` folder of images (nonzero = anomalous)."""
    folder = Path(folder)
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in (".bmp", ".png", ".tif", ".tiff") and p.name[0] != "."),
        key=lambda p: natural_key(p.name),
    )
    if not files:
        raise DataError(f"{folder}: no mask images (bmp/png/tif) in this folder")
    return np.stack([read_image(f) > 0 for f in files])


def read_pixel_mask(path: str | os.PathLike[str], index: int, num_frames: int | None = None) -> np.ndarray:
    """bool pixel masks ``(T, H, W)`` of test video ``index`` (0-based: key ``Test{index + 1:03d}``) from a
    ``pedN_pixel_masks.npz``; True = anomalous pixel.

    Raises
    ------
    DataError
        The file is missing or unreadable, has no such key, holds no ``(T, H, W)`` stack, or (with
        ``num_frames``) its ``T`` differs from the video's frame count.
    """
    path, key = Path(path), f"Test{index + 1:03d}"
    if not path.is_file():
        raise DataError(f"{path}: pixel-mask file not found; expected the benchmark's pedN_pixel_masks.npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            masks = data[key] if key in keys else None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the pixel masks ({exc}); expected an .npz of bool arrays") from exc
    if masks is None:
        raise DataError(f"{path}: no pixel masks for {key}; keys are {', '.join(keys[:5])}...")
    if masks.ndim != 3:
        raise DataError(f"{path}: {key} has shape {masks.shape}; expected masks (n_frames, H, W)")
    _check_mask_frames(masks, num_frames, f"{path} ({key})")
    return masks.astype(bool, copy=False)


def read_pixel_masks(path: str | os.PathLike[str], lengths: list[int]) -> list[np.ndarray]:
    """Per test video, in order, its bool pixel masks ``(T_i, H, W)``; ``lengths`` are the videos' frame counts
    (``T_i`` must equal them).  Eager: all of Ped2 is 2010 x 240 x 360 bool, 174 MB; :class:`VideoBenchmark`
    loads one video at a time instead (:meth:`~memae.data.video.VideoBenchmark.load_pixel_mask`)."""
    return [read_pixel_mask(path, i, n) for i, n in enumerate(lengths)]


def _check_mask_frames(masks: np.ndarray, num_frames: int | None, where: str) -> None:
    if num_frames is not None and masks.shape[0] != num_frames:
        raise DataError(f"{where}: {masks.shape[0]} pixel masks but the video has {num_frames} frames; check that "
                        "the frames and ground truth belong together")


def _pixel_masks(root: Path, test_dir: Path, test: list[VideoSource], ped: int,
                 lengths: list[int]) -> list[MaskLoader | None] | None:
    loaders: list[MaskLoader | None] = []
    for src, n in zip(test, lengths):
        folder = test_dir / f"{src.name}_gt"
        loaders.append(_folder_loader(folder, n) if folder.is_dir() else None)
    if any(loaders):
        return loaders
    for d in _gt_dirs(root, test_dir):
        npz = d / f"ped{ped}_pixel_masks.npz"
        if npz.is_file():
            return [_npz_loader(npz, i, n) for i, n in enumerate(lengths)]
    return None


def _folder_loader(folder: Path, num_frames: int) -> MaskLoader:
    def load() -> np.ndarray:
        masks = read_mask_folder(folder)
        _check_mask_frames(masks, num_frames, str(folder))
        return masks

    return load


def _npz_loader(npz: Path, index: int, num_frames: int) -> MaskLoader:
    return lambda: read_pixel_mask(npz, index, num_frames)


def _gt_dirs(root: Path, test_dir: Path) -> list[Path]:
    dirs = [test_dir, test_dir.parent, root, root / "ground_truth", test_dir.parent.parent, root.parent]
    seen: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in seen:
            seen.append(d)
    return seen


def _check_video_count(path: Path, n_gt: int, n_videos: int) -> None:
    if n_gt != n_videos:
        raise DataError(
            f"{path}: ground truth for {n_gt} test videos but {n_videos} test videos were found; "
            "check that the frames and ground truth belong together"
        )
