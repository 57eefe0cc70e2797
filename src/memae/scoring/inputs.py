"""``memae score``: read new inputs (.npy, image folder, table), score them with a checkpoint, write a CSV."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..training.checkpoint import PREPROCESSOR_KEY, load_checkpoint, load_model
from .reconstruction import reconstruction_errors

if TYPE_CHECKING:
    from .stream import ScoreSummary

__all__ = ["score_path", "read_inputs", "read_table_for_model"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def read_inputs(path: Path, input_shape: tuple[int, ...], state: dict, label_column: str | None = None):
    """Samples as float32 ``(N, *input_shape)``, their ids, and optional labels."""
    if not path.exists():
        raise DataError(f"input {path} does not exist; pass a .npy file, an image folder or a .csv/.parquet table")
    if path.is_dir():
        return _read_image_folder(path, input_shape)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"{path} is not a readable .npy array ({exc}); save it with numpy.save") from None
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / 255.0
        array = to_model_layout(array.astype(np.float32), input_shape, path)
        return array, [str(i) for i in range(len(array))], None
    if suffix in (".csv", ".parquet", ".pq", ".gz"):
        return read_table_for_model(path, state, label_column)
    raise DataError(f"cannot score {path}: unknown input type {suffix!r}; use .npy, an image folder, .csv or .parquet")


def read_table_for_model(
    path: str | os.PathLike[str], state: Mapping[str, Any], label_column: str | None = None
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Read a table to score with a checkpoint, preprocessed exactly as at training time.

    The preprocessor comes from ``state["extra"][PREPROCESSOR_KEY]`` (a :meth:`TablePreprocessor.state_dict`
    or ``KDDPreprocessor.state_dict``).  Without one, every column must already be numeric and is used as is.
    A KDD preprocessor reads ``path`` as a raw KDD Cup 99 file (no header; labels give ``is_anomaly``).

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_rows, n_features)
    ids : list of str
        Row numbers (0-based) as strings.
    labels : numpy.ndarray of shape (n_rows,) or None
        The ``label_column`` values (for KDD: ``is_anomaly``), else None.
    """
    from ..data.kdd import KDDPreprocessor, load_kddcup99
    from ..data.tables import TablePreprocessor, check_finite, read_table

    extra = state.get("extra") if isinstance(state, Mapping) else None
    pre_state = (extra or {}).get(PREPROCESSOR_KEY)
    if isinstance(pre_state, Mapping) and pre_state.get("kind") == "KDDPreprocessor":

        data = load_kddcup99(path)
        x = KDDPreprocessor.from_state_dict(pre_state).transform(data).astype(np.float32, copy=False)
        return x, [str(i) for i in range(data.n_rows)], data.is_anomaly.copy()
    X, y, names = read_table(path, label_column)
    if pre_state is not None:
        x = TablePreprocessor.from_state_dict(pre_state).transform(X)
    else:
        from pandas.api.types import is_numeric_dtype  # read_table has needed pandas already

        not_numeric = [n for n in names if not is_numeric_dtype(X[n])]
        if not_numeric:
            raise DataError(
                f"{path}: columns {not_numeric[:5]} are not numeric and the checkpoint has no preprocessor; "
                "train on this kind of table with memae so that its preprocessing is saved"
            )
        x = check_finite(X.to_numpy(dtype=np.float64), str(path), names)
    return x.astype(np.float32, copy=False), [str(i) for i in range(len(X))], y


NPY_LAYOUTS = "(N, C, H, W), (N, H, W, C), or (N, H, W) for one-channel models; one sample may drop the N axis"


def to_model_layout(array: np.ndarray, input_shape: tuple[int, ...], path: Path | str = "array") -> np.ndarray:
    """``array`` as ``(N, *input_shape)``, accepting the usual image layouts (see :data:`NPY_LAYOUTS`).

    An ``(N, 28, 28)`` MNIST-style array was once read as one 20-channel image; channels-last arrays (``(N, H, W,
    C)``, as PIL and most image code write them) are moved to PyTorch's channels-first order.
    """
    shape = tuple(array.shape)
    if len(input_shape) != 3:  # tables and flat vectors: (N, F) or one (F,)
        if shape == tuple(input_shape):
            return array[None]
        if shape[1:] == tuple(input_shape):
            return array
        raise DataError(f"{path}: array of shape {shape} does not fit this model, which takes samples of shape "
                        f"{tuple(input_shape)}; pass (N, {', '.join(map(str, input_shape))})")
    c, h, w = input_shape
    if array.ndim == 4 and shape[1:] == (c, h, w):
        return array
    if array.ndim == 4 and shape[1:] == (h, w, c):
        return np.ascontiguousarray(array.transpose(0, 3, 1, 2))
    if array.ndim == 3 and c == 1 and shape[1:] == (h, w):
        return array[:, None]
    if array.ndim == 3 and shape == (c, h, w):
        return array[None]
    if array.ndim == 3 and shape == (h, w, c):
        return np.ascontiguousarray(array.transpose(2, 0, 1))[None]
    if array.ndim == 2 and c == 1 and shape == (h, w):
        return array[None, None]
    raise DataError(f"{path}: array of shape {shape} does not fit this model, which takes {c}-channel {h}x{w} "
                    f"images; accepted layouts: {NPY_LAYOUTS.replace('C', str(c)).replace('H', str(h)).replace('W', str(w))}")


def _read_image_folder(path: Path, input_shape: tuple[int, ...]):
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3:
        raise DataError(f"an image folder needs an image model, but this checkpoint expects samples of shape {input_shape}")
    channels, height, width = input_shape
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    images = []
    for file in files:
        try:
            with Image.open(file) as image:
                image = image.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
                array = np.asarray(image, dtype=np.float32) / 255.0
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"cannot read image {file}: {exc}") from None
        images.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
    return np.stack(images), [f.name for f in files], None


def score_path(checkpoint: str | Path, input_path: str | Path, out: str | Path, *,
               label_column: str | None = None, error: str | None = None, chunk_rows: int | None = None,
               progress: bool = True) -> "ScoreSummary":
    """Score ``input_path`` with ``checkpoint`` (a file or a run folder) into the CSV ``out``.

    A table model scores CSV/Parquet tables and ``.npy`` arrays of raw rows through the preprocessing stored in it,
    streamed in chunks of ``chunk_rows`` rows (default :data:`memae.scoring.stream.CHUNK_ROWS`); an image model
    scores ``.npy`` images and image folders.  Every form is written by :func:`memae.scoring.stream.write_scores`:
    the same columns and the same out-of-distribution check.
    """
    from ..io import resolve_checkpoint
    from ..models import ARCHITECTURES
    from .stream import CHUNK_ROWS, is_table_path, score_table_stream, write_scores

    checkpoint = resolve_checkpoint(checkpoint)  # a run folder stands for its best.pt, as in score-video
    state = load_checkpoint(checkpoint)
    architecture = (state.get("model_config") or {}).get("architecture")
    if architecture == "video":
        raise DataError(f"{checkpoint} is a video model; score videos with 'memae score-video {checkpoint} VIDEO "
                        "--out scores.csv'")
    input_path = Path(input_path)
    if not input_path.exists():
        raise DataError(f"input {input_path} does not exist; pass a .npy file, an image folder or a .csv/.parquet table")
    extra = state.get("extra", {})
    pre_state = extra.get(PREPROCESSOR_KEY)
    kdd = isinstance(pre_state, dict) and pre_state.get("kind") == "KDDPreprocessor"
    spec = ARCHITECTURES.get(architecture)
    table_model = pre_state is not None or (spec is not None and spec.kind == "mlp")
    tabular_input = input_path.is_file() and (is_table_path(input_path) or input_path.suffix.lower() == ".npy")
    if not table_model and is_table_path(input_path):
        raise DataError(f"{checkpoint} is an image model ({architecture}); it scores .npy images or an image folder, "
                        f"not the table {input_path.name}: train a table model with 'memae train --dataset table'")
    if kdd and input_path.suffix.lower() == ".npy":  # its preprocessing reads raw KDD rows, which an array is not
        raise DataError(f"{checkpoint} is a KDD Cup 99 model: it scores raw KDD files (such as kddcup.data.gz), "
                        "not .npy arrays; pass the raw file")
    if table_model and not kdd and tabular_input:
        return score_table_stream(checkpoint, input_path, out, label_column=label_column, error=error,
                                  chunk_rows=chunk_rows or CHUNK_ROWS, progress=progress, state=state)
    model = load_model(checkpoint, state=state)
    error = error or extra.get("error", "mse")
    x, ids, labels = read_inputs(input_path, tuple(model.input_shape or ()), state, label_column)
    if len(x) == 0:
        raise DataError(f"{input_path} holds no samples; nothing to score")
    if not np.isfinite(x).all():
        raise DataError(f"{input_path} contains NaN or inf values; clean or impute them before scoring")
    scores = reconstruction_errors(model, x, error=error)
    label_name = (label_column or "label") if labels is not None else None
    return write_scores([(ids, scores, labels)], out, extra=extra, error=error, name=str(input_path),
                        label_name=label_name)
