"""``memae score``: read new inputs (.npy, image folder, table), score them with a checkpoint, write a CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..training.checkpoint import load_checkpoint, load_model
from .reconstruction import reconstruction_errors

__all__ = ["score_path", "read_inputs"]

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
        array = array.astype(np.float32)
        if array.ndim == len(input_shape):  # a single sample
            array = array[None]
        return array, [str(i) for i in range(len(array))], None
    if suffix in (".csv", ".parquet", ".pq", ".gz"):
        from ..data.tables import read_table_for_model

        return read_table_for_model(path, state, label_column)
    raise DataError(f"cannot score {path}: unknown input type {suffix!r}; use .npy, an image folder, .csv or .parquet")


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
               progress: bool = True) -> Path:
    """Score ``input_path`` with ``checkpoint`` into the CSV ``out``.  CSV/Parquet tables are streamed in chunks of
    ``chunk_rows`` rows (default :data:`memae.scoring.stream.CHUNK_ROWS`), so their size is not bounded by memory."""
    from ..experiments.runner import write_csv
    from .stream import CHUNK_ROWS, is_table_path, score_table_stream

    state = load_checkpoint(checkpoint)
    pre_state = state.get("extra", {}).get("preprocessor")
    kdd = isinstance(pre_state, dict) and pre_state.get("kind") == "KDDPreprocessor"
    if is_table_path(input_path) and not kdd and Path(input_path).is_file():
        return score_table_stream(checkpoint, input_path, out, label_column=label_column, error=error,
                                  chunk_rows=chunk_rows or CHUNK_ROWS, progress=progress)
    model = load_model(checkpoint, state=state)
    extra = state.get("extra", {})
    error = error or extra.get("error", "mse")
    x, ids, labels = read_inputs(Path(input_path), tuple(model.input_shape or ()), state, label_column)
    if not np.isfinite(x).all():
        raise DataError(f"{input_path} contains NaN or inf values; clean or impute them before scoring")
    scores = reconstruction_errors(model, x, error=error)
    threshold = extra.get("threshold")
    rows = []
    for i, (sample_id, score) in enumerate(zip(ids, scores)):
        row = {"id": sample_id, "score": float(score)}
        if threshold is not None:
            row["predicted_anomaly"] = int(score > threshold)
        if labels is not None:
            row[label_column or "label"] = labels[i]
        rows.append(row)
    return write_csv(Path(out), rows)
