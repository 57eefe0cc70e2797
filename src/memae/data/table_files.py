"""Reading table files: :func:`read_table` (CSV, optionally gzipped, or Parquet, with pandas) and the whole-file
checks made before any split, so that messages name the file's rows (:func:`check_table_cells`,
:func:`warn_label_like_columns`)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.table_encoding import _require_pandas
from memae.errors import DataError, MemAEWarning, did_you_mean

__all__ = ["STRAY_SHARE", "LABEL_LIKE_NAMES", "check_table_cells", "warn_label_like_columns", "read_table"]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")

#: A text column is taken for a numeric column with stray strings when at most this share of its values (and
#: at least one) is not a number.  One ``'oops'`` once turned 30 features into 179 one-hot columns.
STRAY_SHARE = 0.05
LABEL_LIKE_NAMES = ("label", "y", "target", "class", "anomaly")


def _file_row(path: Path, row: int) -> str:
    """``row 17 (line 19 of t.csv)``: the 0-based data row, and the line for text tables (line 1 is the header)."""
    if path.name.lower().endswith(_PARQUET_SUFFIXES):
        return f"row {row} (0-based)"
    return f"row {row} (0-based; line {row + 2} of {path.name}, counting the header)"


def check_table_cells(frame: Any, path: str | os.PathLike[str]) -> None:
    """Reject, naming the file's row, what would otherwise train silently on damaged values.

    * NaN/inf in a numeric column, or a missing cell in a text column;
    * a stray string in an otherwise numeric column (pandas types the column as text, and the preprocessor would
      one-hot encode every distinct number).

    Run this on the table as read, before any split: afterwards row numbers index the split, not the file.
    """
    pd = _require_pandas("checking tables")
    path = Path(path)
    problems: list[tuple[int, str]] = []  # (first bad row, message): the earliest row in the file is reported
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col.dtype):
            continue
        if pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable Parquet ints hold pd.NA
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                row = int(bad[0])
                problems.append((row, f"{path}: {values[row]} in numeric column {name!r} at {_file_row(path, row)}; "
                                      f"{bad.size} missing or infinite value(s) in the column; drop or impute them first"))
            continue
        missing = np.flatnonzero(col.isna().to_numpy())
        if missing.size:
            row = int(missing[0])
            problems.append((row, f"{path}: missing value in column {name!r} at {_file_row(path, row)}; "
                                  f"{missing.size} in the column; fill or drop those rows first"))
            continue
        numbers = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        stray = np.flatnonzero(np.isnan(numbers))
        if 0 < stray.size <= STRAY_SHARE * len(col):
            row = int(stray[0])
            problems.append((row, f"{path}: non-numeric value {col.iloc[row]!r} in numeric column {name!r} at "
                                  f"{_file_row(path, row)} ({stray.size} such value(s) in the column); fix or drop "
                                  "those rows"))
    if problems:
        raise DataError(min(problems)[1])


def warn_label_like_columns(columns: Sequence[str], path: str | os.PathLike[str]) -> None:
    """Warn when, without ``--label-column``, a column with a label's usual name is used as a feature."""
    suspects = [c for c in columns if str(c).strip().lower() in LABEL_LIKE_NAMES]
    if suspects:
        warnings.warn(f"{path}: column {suspects[0]!r} looks like a label but is used as a feature; pass "
                      f"--label-column {suspects[0]} to use it as labels", MemAEWarning, stacklevel=2)


def read_table(
    path: str | os.PathLike[str], label_column: str | None = None
) -> tuple[Any, np.ndarray | None, list[str]]:
    """Read a CSV (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``) or Parquet (``.parquet``, ``.pq``) table.

    Parameters
    ----------
    path : path-like
        The file.  CSV files need a header row; ``.tsv`` files are tab-separated.
    label_column : str, optional
        Name of a column holding labels; it is removed from the features and returned as ``y``.

    Returns
    -------
    X : pandas.DataFrame, shape (n_rows, n_features)
        The feature columns, as pandas typed them.
    y : numpy.ndarray of shape (n_rows,) or None
        The label column's values, or None without ``label_column``.
    feature_names : list of str
        ``X``'s column names.
    """
    path = Path(path)
    pd = _require_pandas(f"reading {path}")
    if not path.is_file():
        raise DataError(f"{path}: no such file; check the path")
    name = path.name.lower()
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            try:
                frame = pd.read_parquet(path)
            except ImportError as exc:
                raise DataError(f"{path}: reading Parquet needs pyarrow; run: pip install 'memae[tables]'") from exc
        elif name.endswith(_CSV_SUFFIXES):
            frame = pd.read_csv(path, sep="\t" if ".tsv" in name else ",")
        else:
            raise DataError(
                f"{path}: unknown table format; use a .csv/.tsv/.txt (optionally .gz) or .parquet/.pq file"
            )
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors have many types
        raise DataError(f"{path}: cannot read table ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    frame.columns = [str(c) for c in frame.columns]
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"{path}: table is empty ({frame.shape[0]} rows, {frame.shape[1]} columns)")
    y = None
    if label_column is not None:
        if str(label_column) not in frame.columns:
            cols = list(frame.columns)
            raise DataError(
                f"{path}: label column {label_column!r} not found{did_you_mean(str(label_column), cols)} (columns: "
                f"{', '.join(cols[:20])}"
                f"{', ...' if len(cols) > 20 else ''}); pass one of them or no label column"
            )
        y = frame[str(label_column)].to_numpy()
        frame = frame.drop(columns=[str(label_column)])
        if frame.shape[1] == 0:
            raise DataError(f"{path}: only the label column {label_column!r} is present; the table has no features")
    return frame, y, list(frame.columns)
