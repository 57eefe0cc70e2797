"""Scoring in chunks: every input form of a table model (CSV, Parquet, ``.npy``, a DataFrame) goes through one
:class:`TableScorer`, which applies the preprocessing stored in the checkpoint, and every ``memae score`` output
through one writer, :func:`write_scores`, with the same columns and the same out-of-distribution check.

Memory is bounded by the chunk, not the file: ``score_normalised`` needs the input's min and max, so the writer
makes a second pass over its own temporary file, and the check's median is that of a fixed-size uniform sample of
the scores (exact up to :data:`MEDIAN_SAMPLE` rows).
"""

from __future__ import annotations

import csv
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, MemAEWarning, did_you_mean
from ..io import atomic_path

__all__ = ["TableScorer", "iter_table_chunks", "iter_array_chunks", "score_table_stream", "write_scores",
           "ScoreSummary", "CHUNK_ROWS", "MEDIAN_SAMPLE", "is_table_path"]

#: Rows per chunk by default: 50,000 rows x 100 float64 columns is 40 MB.
CHUNK_ROWS = 50_000
#: Scores kept (a uniform reservoir sample) for the running median of the out-of-distribution check.
MEDIAN_SAMPLE = 10_000
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


def iter_array_chunks(array: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    """Row slices of ``array`` (a memory-mapped ``.npy`` is read chunk by chunk)."""
    for start in range(0, len(array), chunk_rows):
        yield np.asarray(array[start:start + chunk_rows])


def _count_rows(path: Path) -> int | None:
    """Rows of a Parquet file from its footer (free); None for CSV (counting would read the file twice)."""
    if path.name.lower().endswith(_PARQUET):
        try:
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # noqa: BLE001 - only a progress-bar total
            return None
    return None


class TableScorer:
    """A memae table checkpoint (``MemAEDetector.save`` or a table run's ``best.pt``) that scores pandas DataFrames
    or NumPy arrays of *raw* rows with the preprocessing stored in it: the unit that every input form, streaming and
    distributed scoring share.

    Arrays hold the training table's feature columns in its order (what ``table.to_numpy()`` gives); an array
    that does not fit the stored preprocessing is refused with the reason, never scored without it.

    Picklable by path: the network is loaded on first use in each process (a Dask or Spark worker), not shipped.
    """

    def __init__(self, checkpoint: str | os.PathLike[str], error: str | None = None,
                 state: dict[str, Any] | None = None) -> None:
        self.checkpoint = str(checkpoint)
        self.error = error
        self._state = state  # already read by the caller: not read twice
        self._loaded: tuple[Any, Any, str, dict[str, Any]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "error": self.error, "_state": None, "_loaded": None}

    def _load(self) -> tuple[Any, Any, str, dict[str, Any]]:
        if self._loaded is None:
            from ..data.tables import TablePreprocessor
            from ..training.checkpoint import PREPROCESSOR_KEY, load_checkpoint, load_model

            state = self._state if self._state is not None else load_checkpoint(self.checkpoint)
            model = load_model(self.checkpoint, state=state)
            extra = state.get("extra", {})
            pre_state = extra.get(PREPROCESSOR_KEY)
            if isinstance(pre_state, dict) and pre_state.get("kind") == "KDDPreprocessor":
                raise DataError("a KDD Cup 99 checkpoint reads raw KDD files whole; score them with 'memae score' "
                                "on the file")
            preprocessor = TablePreprocessor.from_state_dict(pre_state) if pre_state is not None else None
            self._loaded = (model, preprocessor, self.error or extra.get("error", "mse"), extra)
            self._state = None
        return self._loaded

    @property
    def threshold(self) -> float | None:
        return self._load()[3].get("threshold")

    @property
    def extra(self) -> dict[str, Any]:
        """The checkpoint's ``extra`` dict (threshold, score distribution, preprocessor)."""
        return self._load()[3]

    @property
    def error_name(self) -> str:
        return self._load()[2]

    def features(self, frame: Any, where: str = "table") -> np.ndarray:
        """The model's float32 input for ``frame`` (a DataFrame or an array of raw rows), preprocessed as in training."""
        from ..data.tables import check_finite, is_dataframe

        model, preprocessor, _, _ = self._load()
        if is_dataframe(frame):
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
        else:
            x = np.asarray(frame)
            if x.ndim == 1:
                x = x[None]
            if preprocessor is not None:
                names = list(preprocessor.feature_names_in_)
                if preprocessor.categorical_columns_:
                    raise DataError(f"{where}: this model was trained on a table with text columns "
                                    f"({', '.join(preprocessor.categorical_columns_[:5])}), which an array cannot "
                                    "carry faithfully; score the table as a CSV or Parquet file instead")
                if x.ndim != 2 or x.shape[1] != len(names):
                    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                    raise DataError(f"{where}: array of shape {x.shape} does not fit this model's stored "
                                    f"preprocessing, which takes the {len(names)} raw feature columns of its training "
                                    f"table ({shown}) in that order; pass those rows unscaled, as table.to_numpy() "
                                    "gives them")
                if x.dtype.kind not in "biuf":
                    raise DataError(f"{where}: array of {x.dtype} values; pass numbers")
                x = preprocessor.transform(x)
            else:
                width = tuple(model.input_shape or ())
                if x.ndim != 2 or x.shape[1:] != width:
                    raise DataError(f"{where}: array of shape {x.shape} does not fit this model, which takes rows "
                                    f"of shape {width}; pass (N, {', '.join(map(str, width))})")
        x = np.asarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            check_finite(x, f"{where} contains NaN or inf")
        return x

    def score(self, frame: Any, where: str = "table") -> np.ndarray:
        """Anomaly scores (float64, one per row) of a DataFrame with the training columns, or of an array of raw rows."""
        import torch

        from .reconstruction import reconstruction_errors

        model, _, error, _ = self._load()
        if len(frame) == 0:
            return np.zeros(0, dtype=np.float64)
        x = self.features(frame, where)
        with torch.no_grad():
            return reconstruction_errors(model, x, error=error, batch_size=1024)


@dataclass
class ScoreSummary:
    """What :func:`write_scores` wrote: the file, the row count, how many were flagged, the distribution check and,
    with labels, the ROC-AUC (None where undefined: one class, or labels in no known convention)."""

    path: Path
    n: int
    flagged: int | None
    check: Any = None
    roc_auc: float | None = None
    auc_note: str | None = None


class _Reservoir:
    """A uniform sample of at most ``size`` values of a stream (Algorithm R, vectorised per chunk; seeded)."""

    def __init__(self, size: int = MEDIAN_SAMPLE) -> None:
        self.size, self.seen = size, 0
        self.values = np.empty(size, dtype=np.float64)
        self._rng = np.random.default_rng(0)

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        fill = min(max(self.size - self.seen, 0), len(values))
        self.values[self.seen:self.seen + fill] = values[:fill]
        rest = values[fill:]
        if len(rest):  # the i-th value (0-based) replaces a random slot with probability size / (i + 1)
            slots = self._rng.integers(0, np.arange(self.seen + fill, self.seen + len(values)) + 1)
            keep = slots < self.size
            self.values[slots[keep]] = rest[keep]  # later values win on a repeated slot, as in the sequential form
        self.seen += len(values)

    def sample(self) -> np.ndarray:
        return self.values[:min(self.seen, self.size)]


def write_scores(
    chunks: Iterable[tuple[list[str] | None, np.ndarray, np.ndarray | None]],
    out: str | os.PathLike[str],
    *,
    extra: dict[str, Any],
    error: str,
    name: str,
    label_name: str | None = None,
    anomaly_label: str | None = None,
) -> ScoreSummary:
    """Write ``id, score, score_normalised[, predicted_anomaly][, label]`` for every input form, atomically.

    ``chunks`` yields ``(ids or None for row numbers, scores, labels or None)``.  ``score_normalised`` is 0-1 within
    this input; the median of the scores is compared with the checkpoint's stored validation errors and a
    :class:`MemAEWarning` names ``name`` when the input looks unlike the training data.  Labels, when given, are
    kept to report the ROC-AUC (the only part whose memory grows with the input).
    """
    from .distribution import DISTRIBUTION_KEY, check_distribution

    threshold = extra.get("threshold")
    reservoir = _Reservoir()
    lo, hi, n, flagged = np.inf, -np.inf, 0, 0
    all_scores: list[np.ndarray] = []
    all_labels: list[np.ndarray] = []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, raw_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".raw.tmp", dir=out.parent)
    raw = Path(raw_name)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:  # pass 1: raw rows, never the output
            writer = csv.writer(handle)
            for ids, scores, labels in chunks:
                scores = np.asarray(scores, dtype=np.float64)
                if len(scores) == 0:
                    continue
                for i, score in enumerate(scores):
                    row: list[Any] = [ids[i] if ids is not None else n + i, repr(float(score))]
                    if threshold is not None:
                        row.append(int(score > threshold))
                    if labels is not None:
                        row.append(labels[i])
                    writer.writerow(row)
                finite = scores[np.isfinite(scores)]
                if finite.size:
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
                reservoir.add(finite)
                if threshold is not None:
                    flagged += int((scores > threshold).sum())
                if labels is not None:
                    all_scores.append(scores)
                    all_labels.append(np.asarray(labels))
                n += len(scores)
        if n == 0:
            raise DataError(f"{name} holds no samples; nothing to score")
        span = hi - lo if hi > lo else None
        with atomic_path(out) as tmp, open(raw, newline="", encoding="utf-8") as source, \
                open(tmp, "w", newline="", encoding="utf-8") as handle:  # pass 2: add the normalised column
            writer = csv.writer(handle)
            writer.writerow(["id", "score", "score_normalised"] + (["predicted_anomaly"] if threshold is not None else [])
                            + ([label_name] if label_name is not None else []))
            for row in csv.reader(source):
                score = float(row[1])
                normalised = (score - lo) / span if span is not None else 0.0  # 0-1 within this input only
                writer.writerow([row[0], score, normalised, *row[2:]])
    finally:
        raw.unlink(missing_ok=True)
    check = check_distribution(reservoir.sample(), extra.get(DISTRIBUTION_KEY), error)
    if check is not None and check.out_of_distribution:
        warnings.warn(check.warning(name), MemAEWarning, stacklevel=2)
    summary = ScoreSummary(Path(out), n, flagged if threshold is not None else None, check)
    if all_labels:
        summary.roc_auc, summary.auc_note = _labelled_auc(np.concatenate(all_labels), np.concatenate(all_scores),
                                                          label_name or "label", anomaly_label)
    return summary


def _labelled_auc(labels: np.ndarray, scores: np.ndarray, column: str,
                  anomaly_label: str | None) -> tuple[float | None, str | None]:
    from ..data.experiment import labels_to_bool
    from .metrics import roc_auc

    try:
        is_anomaly = labels_to_bool(labels, column, anomaly_label)
    except DataError as exc:
        return None, str(exc)
    auc = roc_auc(is_anomaly, scores)
    if auc != auc:
        return None, f"label column {column!r} holds one class only, so the ROC-AUC is undefined"
    return auc, None


def score_table_stream(
    checkpoint: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    error: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = True,
    state: dict[str, Any] | None = None,
) -> ScoreSummary:
    """Score every row of a CSV/Parquet table or ``.npy`` array of raw rows with a memae table checkpoint
    (``MemAEDetector.save`` or a table run's ``best.pt``), chunk by chunk, through :func:`write_scores`.

    ``id`` is the 0-based row number in the file.  The preprocessing stored in the checkpoint is applied to each
    chunk, so the scores equal those of scoring the whole table at once, in any of these forms.
    """
    from tqdm.auto import tqdm

    from ..console import show_progress

    scorer = TableScorer(checkpoint, error, state=state)
    input_path = Path(input_path)
    label_name = str(label_column) if label_column is not None else None
    is_npy = input_path.suffix.lower() == ".npy"
    if is_npy:
        if label_name is not None:
            raise DataError(f"--label-column names a table column; {input_path} is an array: drop --label-column, "
                            "or score the table as CSV/Parquet")
        try:
            array = np.load(input_path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"{input_path} is not a readable .npy array ({exc}); save it with numpy.save") from None
        frames: Iterator[Any] = iter_array_chunks(array if array.ndim > 1 else array[None], chunk_rows)
        total: int | None = len(array) if array.ndim > 1 else 1
    else:
        frames, total = iter_table_chunks(input_path, chunk_rows), _count_rows(input_path)
    bar = tqdm(total=total, disable=not show_progress(progress), desc="scoring", unit="row", unit_scale=True)

    def chunks() -> Iterator[tuple[None, np.ndarray, np.ndarray | None]]:
        offset = 0
        for frame in frames:
            labels = None
            if label_name is not None:
                if label_name not in frame.columns:
                    cols = list(frame.columns)
                    raise DataError(f"{input_path}: label column {label_column!r} not found"
                                    f"{did_you_mean(label_name, cols)} (columns: {', '.join(cols[:20])}"
                                    f"{', ...' if len(cols) > 20 else ''})")
                labels = frame[label_name].to_numpy()
                frame = frame.drop(columns=[label_name])
            scores = scorer.score(frame, f"{input_path} (rows {offset}-{offset + len(frame) - 1})")
            offset += len(scores)
            bar.update(len(scores))
            yield None, scores, labels

    try:
        return write_scores(chunks(), out, extra=scorer.extra, error=scorer.error_name, name=str(input_path),
                            label_name=label_name)
    finally:
        bar.close()
