"""Scoring tables larger than memory: read a CSV/Parquet file in chunks of rows, preprocess each chunk exactly as
at training time, score it, append its rows to the output CSV.  Memory is bounded by the chunk, not the file.

``memae score CHECKPOINT table.csv --out scores.csv`` goes through :func:`score_table_stream`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import atomic_path

__all__ = ["FrameScorer", "iter_table_chunks", "score_table_stream", "CHUNK_ROWS", "is_table_path"]

#: Rows per chunk by default: 50,000 rows x 100 float64 columns is 40 MB.
CHUNK_ROWS = 50_000
_CSV = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
_PARQUET = (".parquet", ".pq")


def is_table_path(path: str | os.PathLike[str]) -> bool:
    return Path(path).name.lower().endswith(_CSV + _PARQUET)


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise DataError("reading tables needs pandas; run: pip install 'memae[tables]'") from None
    return pd


def iter_table_chunks(path: str | os.PathLike[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[Any]:
    """DataFrames of at most ``chunk_rows`` rows, in file order, with string column names."""
    pd = _pandas()
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; check the path")
    name = path.name.lower()
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be at least 1, not {chunk_rows}")
    try:
        if name.endswith(_PARQUET):
            try:
                import pyarrow.parquet as pq
            except ImportError:
                raise DataError(f"{path}: reading Parquet needs pyarrow; run: pip install 'memae[tables]'") from None
            # row groups are streamed batch by batch: never the whole file in memory
            chunks = (batch.to_pandas() for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows))
        elif name.endswith(_CSV):
            chunks = pd.read_csv(path, sep="\t" if ".tsv" in name else ",", chunksize=chunk_rows)
        else:
            raise DataError(f"{path}: unknown table format; use a .csv/.tsv/.txt (optionally .gz) or .parquet/.pq file")
        for frame in chunks:
            frame.columns = [str(c) for c in frame.columns]
            yield frame
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors have many types
        raise DataError(f"{path}: cannot read table ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc


def _count_rows(path: Path) -> int | None:
    """Rows of a Parquet file from its footer (free); None for CSV (counting would read the file twice)."""
    if path.name.lower().endswith(_PARQUET):
        try:
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # noqa: BLE001 - only a progress-bar total
            return None
    return None


class FrameScorer:
    """A memae checkpoint (``MemAEDetector.save`` or a table run's ``best.pt``) that scores pandas DataFrames with
    the preprocessing stored in it: the unit that streaming and distributed scoring share.

    Picklable by path: the network is loaded on first use in each process (a Dask or Spark worker), not shipped.
    """

    def __init__(self, checkpoint: str | os.PathLike[str], error: str | None = None) -> None:
        self.checkpoint = str(checkpoint)
        self.error = error
        self._loaded: tuple[Any, Any, str, float | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "error": self.error, "_loaded": None}

    def _load(self) -> tuple[Any, Any, str, float | None]:
        if self._loaded is None:
            from ..data.tables import TablePreprocessor
            from ..training.checkpoint import PREPROCESSOR_KEY, load_checkpoint, load_model

            state = load_checkpoint(self.checkpoint)
            model = load_model(self.checkpoint, state=state)
            extra = state.get("extra", {})
            pre_state = extra.get(PREPROCESSOR_KEY)
            if isinstance(pre_state, dict) and pre_state.get("kind") == "KDDPreprocessor":
                raise DataError("a KDD Cup 99 checkpoint reads raw KDD files whole; score them with 'memae score' "
                                "on the file")
            preprocessor = TablePreprocessor.from_state_dict(pre_state) if pre_state is not None else None
            self._loaded = (model, preprocessor, self.error or extra.get("error", "mse"), extra.get("threshold"))
        return self._loaded

    @property
    def threshold(self) -> float | None:
        return self._load()[3]

    def score(self, frame: Any, where: str = "table") -> np.ndarray:
        """Anomaly scores (float64, one per row) of a DataFrame with the training columns."""
        import torch

        from ..data.tables import check_finite
        from .reconstruction import reconstruction_errors

        model, preprocessor, error, _ = self._load()
        if len(frame) == 0:
            return np.zeros(0, dtype=np.float64)
        frame = frame.rename(columns=str)
        if preprocessor is not None:
            x = preprocessor.transform(frame)
        else:
            pd = _pandas()
            not_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
            if not_numeric:
                raise DataError(f"{where}: columns {not_numeric[:5]} are not numeric and the checkpoint has no "
                                "preprocessor; train on this kind of table with memae")
            x = frame.to_numpy(dtype=np.float64)
        x = np.asarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            check_finite(x, f"{where} contains NaN or inf")
        with torch.no_grad():
            return reconstruction_errors(model, x, error=error, batch_size=1024)


def score_table_stream(
    checkpoint: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    error: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = True,
) -> Path:
    """Score every row of a CSV/Parquet table with a memae checkpoint (``MemAEDetector.save`` or a table run's
    ``best.pt``), chunk by chunk; write ``id, score[, predicted_anomaly][, label]`` to ``out`` atomically.

    ``id`` is the 0-based row number in the file.  The preprocessing stored in the checkpoint is applied to each
    chunk, so the scores equal those of scoring the whole table at once.
    """
    from tqdm.auto import tqdm

    scorer = FrameScorer(checkpoint, error)
    threshold = scorer.threshold
    input_path = Path(input_path)
    label_name = str(label_column) if label_column is not None else None
    bar = tqdm(total=_count_rows(input_path), disable=not progress, desc="scoring", unit="row", unit_scale=True)
    offset = 0
    with atomic_path(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = ["id", "score"] + (["predicted_anomaly"] if threshold is not None else [])
        writer.writerow(header + ([label_name] if label_name else []))
        for frame in iter_table_chunks(input_path, chunk_rows):
            labels = None
            if label_name is not None:
                if label_name not in frame.columns:
                    raise DataError(f"{input_path}: label column {label_column!r} not found (columns: "
                                    f"{', '.join(list(frame.columns)[:20])})")
                labels = frame[label_name].to_numpy()
                frame = frame.drop(columns=[label_name])
            scores = scorer.score(frame, f"{input_path} (rows {offset}-{offset + len(frame) - 1})")
            for i, score in enumerate(scores):
                row: list[Any] = [offset + i, float(score)]
                if threshold is not None:
                    row.append(int(score > threshold))
                if labels is not None:
                    row.append(labels[i])
                writer.writerow(row)
            offset += len(scores)
            bar.update(len(scores))
    bar.close()
    if offset == 0:
        raise DataError(f"{input_path}: table is empty")
    return Path(out)
