"""Generic tabular data: read CSV/Parquet tables and turn mixed columns into a float matrix.

* :func:`read_table` reads a CSV (optionally gzipped) or Parquet file with pandas (an optional
  dependency: ``pip install 'memae[tables]'``) and splits off an optional label column.
* :class:`TablePreprocessor` one-hot encodes the categorical columns (scikit-learn ``OneHotEncoder``)
  and scales the numeric ones (``StandardScaler`` by default, ``MinMaxScaler`` with
  ``scale="minmax"``).  Every statistic -- category levels, means, ranges -- is learnt in
  :meth:`~TablePreprocessor.fit` only, so fit it on the training rows and only transform the test rows.
* :func:`check_finite` rejects NaN/inf with a message naming the first bad row and column.

The encoder works on two blocks -- an ``(n, k)`` array of categorical values and an ``(n, m)`` float
array -- rather than on one mixed object array through ``ColumnTransformer``: a mixed NumPy table has
to be an object array (one Python object per cell, ~20 M objects for KDD Cup 99), while the blocks
keep the numeric part a plain float array.  :class:`memae.data.kdd.KDDPreprocessor` reuses the same
block encoder (:class:`MixedEncoder`).

Output layout: one-hot columns first (categorical columns in input order, levels sorted), then the
scaled numeric columns in input order.  Names follow scikit-learn: ``"<column>_<level>"`` for one-hot
columns, the column name for numeric ones (``x0, x1, ...`` for NumPy input).

Unseen categories at transform time (``handle_unknown``):

* ``"ignore"`` (default): the row gets all zeros in that column's one-hot block and an
  :class:`UnknownCategoryWarning` names the column, a few of the values and how many rows;
* ``"error"``: :class:`~memae.errors.DataError` naming the column, the value and its row.

Missing values are not imputed: NaN/inf in a numeric column or a missing value (None/NaN) in a
categorical column raises :class:`~memae.errors.DataError`; impute or drop those rows first.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from memae.errors import ConfigError, DataError, MemAEWarning, did_you_mean

__all__ = [
    "SCALERS",
    "MixedEncoder",
    "PreprocessorNotFittedError",
    "TablePreprocessor",
    "UnknownCategoryWarning",
    "check_finite",
    "check_table_cells",
    "is_dataframe",
    "warn_label_like_columns",
    "make_one_hot",
    "make_scaler",
    "read_table",
]

#: Accepted values of ``scale``.
SCALERS: tuple[str, ...] = ("standard", "minmax", "none")
_HANDLE_UNKNOWN: tuple[str, ...] = ("ignore", "error")
_MINMAX_ATTRS = ("min_", "scale_", "data_min_", "data_max_", "data_range_")
_SCALE_CHUNK_ROWS = 65_536  # rows per scaler call in transform: bounds its float64 temporary (about 5 MB at 10 columns)
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")


class UnknownCategoryWarning(UserWarning):
    """A categorical value not seen during ``fit`` was encoded as an all-zero one-hot block."""


class PreprocessorNotFittedError(DataError, NotFittedError):
    """A preprocessor used before ``fit``: a :class:`~memae.errors.DataError` (one line in the CLI) that
    scikit-learn also recognises as its ``NotFittedError``."""


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------


def _require_pandas(what: str) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed in the test environment
        raise DataError(f"{what} needs pandas, which is not installed; run: pip install 'memae[tables]'") from exc
    return pd


def is_dataframe(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame (checked without importing pandas)."""
    return type(X).__name__ == "DataFrame" and hasattr(X, "columns") and hasattr(X, "iloc")


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not supported; use one of {', '.join(map(repr, choices))}")
    return value


def make_scaler(scale: str) -> Any:
    """The scikit-learn scaler for ``scale``: ``"standard"`` (z-score), ``"minmax"`` ([0, 1] on the fit
    data) or ``"none"`` (identity).

    Constant columns are safe with both scalers (scikit-learn uses a unit scale for a zero range or
    zero variance), so they map to 0.
    """
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

    _check_choice("scale", scale, SCALERS)
    if scale == "standard":
        return StandardScaler()
    if scale == "minmax":
        return MinMaxScaler()
    return FunctionTransformer(feature_names_out="one-to-one")


def make_one_hot(categories: str | list[Sequence[Any]] = "auto", sparse: bool = False) -> Any:
    """A float64 scikit-learn ``OneHotEncoder`` (dense output unless ``sparse``).

    It always ignores unknown values (all-zero block); :class:`MixedEncoder` then finds them itself so
    that it can warn or raise with the column name and row.
    """
    from sklearn.preprocessing import OneHotEncoder

    cats = categories if isinstance(categories, str) else [list(c) for c in categories]
    return OneHotEncoder(categories=cats, handle_unknown="ignore", sparse_output=sparse, dtype=np.float64)


def check_finite(X: Any, what: str = "X", columns: Sequence[str] | None = None) -> np.ndarray:
    """Raise :class:`DataError` when ``X`` holds NaN or +-inf, naming the first bad row and column.

    Parameters
    ----------
    X : array-like or pandas DataFrame, shape (n,) or (n, k)
        Numeric values.
    what : str
        What ``X`` is, for the message (a file name, ``"test features"``, ...).
    columns : sequence of str, optional
        Column names for the message; a DataFrame's own columns are used when omitted.

    Returns
    -------
    numpy.ndarray
        ``X`` as a float array (no copy when it already is one).
    """
    if is_dataframe(X):
        columns = [str(c) for c in X.columns] if columns is None else columns
        X = X.to_numpy()
    try:
        arr = np.asarray(X, dtype=np.float64) if np.asarray(X).dtype.kind not in "fc" else np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: expected numeric values, got {exc}; convert or drop non-numeric columns") from exc
    finite = np.isfinite(arr)
    if finite.all():
        return arr
    bad = np.flatnonzero(~finite.ravel())
    first = int(bad[0])
    if arr.ndim <= 1:
        where = f"row {first}"
        value = arr.ravel()[first]
    else:
        row, col = divmod(first, arr.shape[1])
        name = columns[col] if columns is not None and col < len(columns) else f"{col}"
        where = f"row {row}, column {name!r}" if columns is not None else f"row {row}, column {col}"
        value = arr[row, col]
    raise DataError(
        f"{what}: {value} at {where} (0-based; {bad.size} non-finite value(s) in all); "
        "drop or impute missing/infinite values first"
    )


# --------------------------------------------------------------------------------------------------
# the block encoder shared with the KDD preprocessor
# --------------------------------------------------------------------------------------------------


class MixedEncoder:
    """One-hot encoder + scaler over a categorical block and a numeric block.

    Parameters
    ----------
    scale : {"standard", "minmax", "none"}
        Scaler for the numeric block, fitted in :meth:`fit` only.
    handle_unknown : {"ignore", "error"}
        What unseen categorical values do in :meth:`transform` (see the module docstring).
    categories : "auto" or list of sequences
        ``"auto"`` learns the levels of each categorical column from the fit data; otherwise one
        sequence of allowed levels per categorical column (values not in it are "unknown").
    dtype : numpy dtype
        Dtype of the output matrix.
    """

    def __init__(
        self,
        scale: str = "standard",
        handle_unknown: str = "ignore",
        categories: str | list[Sequence[Any]] = "auto",
        dtype: Any = np.float32,
    ) -> None:
        self.scale = _check_choice("scale", scale, SCALERS)
        self.handle_unknown = _check_choice("handle_unknown", handle_unknown, _HANDLE_UNKNOWN)
        self.categories = categories
        self.dtype = np.dtype(dtype)

    # shapes: cat (n, k) str/object, num (n, m) float64
    def fit(
        self, cat: np.ndarray, num: np.ndarray, cat_names: Sequence[str], num_names: Sequence[str]
    ) -> MixedEncoder:
        """Learn levels from ``cat`` (n, k) and scaling from ``num`` (n, m), named ``cat_names``/``num_names``."""
        cat, num = self._check_blocks(cat, num, cat_names, num_names, "fit data")
        if cat.shape[0] == 0:
            raise DataError("fit data has no rows; pass at least one training row")
        self.cat_names_ = list(cat_names)
        self.num_names_ = list(num_names)
        # sparse output: transform scatters the ones into the float32 result (no dense float64 copy)
        self.encoder_ = make_one_hot(self.categories, sparse=True).fit(cat) if cat.shape[1] else None
        self.scaler_ = make_scaler(self.scale).fit(num) if num.shape[1] else None
        self.feature_names_out_ = self._names_out()
        return self

    def transform(self, cat: np.ndarray, num: np.ndarray, what: str = "data") -> np.ndarray:
        """Encode the blocks: float matrix ``(n, n_features_out)``, one-hot columns first."""
        self._check_fitted()
        cat, num = self._check_blocks(cat, num, self.cat_names_, self.num_names_, what)
        out = np.empty((cat.shape[0], len(self.feature_names_out_)), dtype=self.dtype)
        n_onehot = 0
        if self.encoder_ is not None:
            onehot = self.encoder_.transform(cat).tocsr()
            n_onehot = onehot.shape[1]
            out[:, :n_onehot] = 0
            rows = np.repeat(np.arange(onehot.shape[0]), np.diff(onehot.indptr))
            out[rows, onehot.indices] = onehot.data
            self._check_unknown(out[:, :n_onehot], cat, what)
        if self.scaler_ is not None:
            # in row chunks, so that the scaler's float64 result is a temporary of one chunk, not of the whole table
            # (scaling is element-wise: the same values as in one call)
            for start in range(0, num.shape[0], _SCALE_CHUNK_ROWS):
                stop = start + _SCALE_CHUNK_ROWS
                out[start:stop, n_onehot:] = self.scaler_.transform(num[start:stop])
        return out

    def get_feature_names_out(self) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_out_, dtype=object)

    @property
    def categories_(self) -> list[np.ndarray]:
        """Levels of each categorical column, as learnt (or given) at fit time."""
        self._check_fitted()
        return [] if self.encoder_ is None else list(self.encoder_.categories_)

    def state_dict(self) -> dict[str, Any]:
        """The fitted encoder as plain lists/floats/str (what a ``weights_only`` checkpoint can hold)."""
        self._check_fitted()
        scaler: dict[str, Any] = {}
        if self.scaler_ is not None and self.scale != "none":
            attrs = ("mean_", "var_", "scale_") if self.scale == "standard" else _MINMAX_ATTRS
            scaler = {a: np.asarray(getattr(self.scaler_, a), dtype=np.float64).tolist() for a in attrs}
            scaler["n_samples_seen_"] = int(np.max(self.scaler_.n_samples_seen_))
        return {
            "scale": self.scale,
            "handle_unknown": self.handle_unknown,
            "dtype": self.dtype.name,
            "cat_names": list(self.cat_names_),
            "num_names": list(self.num_names_),
            "categories": [[str(v) for v in levels] for levels in self.categories_],
            "scaler": scaler,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> MixedEncoder:
        """Rebuild a fitted encoder from :meth:`state_dict` output (exactly the same transform)."""
        try:
            enc = cls(state["scale"], state["handle_unknown"], [list(c) for c in state["categories"]], state["dtype"])
            enc.cat_names_, enc.num_names_ = list(state["cat_names"]), list(state["num_names"])
            enc.encoder_ = None
            if enc.cat_names_:  # a one-row fit with explicit levels reproduces the encoder exactly
                first = np.array([[levels[0] for levels in enc.categories]], dtype=object)
                enc.encoder_ = make_one_hot(enc.categories, sparse=True).fit(first)
            enc.scaler_ = make_scaler(enc.scale) if enc.num_names_ else None
            if enc.scaler_ is not None:
                if enc.scale == "none":
                    enc.scaler_.fit(np.zeros((1, len(enc.num_names_))))
                else:  # scikit-learn's documented fitted attributes are all that transform reads
                    for name, value in state["scaler"].items():
                        setattr(enc.scaler_, name, np.asarray(value, dtype=np.float64) if name != "n_samples_seen_"
                                else int(value))  # fmt: skip
                    enc.scaler_.n_features_in_ = len(enc.num_names_)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(
                f"not a valid preprocessor state ({type(exc).__name__}: {exc}); was it saved by memae?"
            ) from exc
        enc.feature_names_out_ = enc._names_out()
        return enc

    # -- internals ---------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_out_"):
            raise PreprocessorNotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() on the training data first"
            )

    @staticmethod
    def _check_blocks(
        cat: np.ndarray, num: np.ndarray, cat_names: Sequence[str], num_names: Sequence[str], what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        cat = np.asarray(cat)
        num = np.asarray(num, dtype=np.float64)
        if cat.ndim != 2 or num.ndim != 2 or cat.shape[0] != num.shape[0]:
            raise DataError(
                f"{what}: expected 2-D blocks with the same number of rows, got {cat.shape} and {num.shape}"
            )
        if cat.shape[1] != len(cat_names) or num.shape[1] != len(num_names):
            raise DataError(
                f"{what}: expected {len(cat_names)} categorical + {len(num_names)} numeric columns, "
                f"got {cat.shape[1]} + {num.shape[1]}; pass the same columns as at fit time"
            )
        check_finite(num, what, list(num_names))
        return cat, num

    def _check_unknown(self, onehot: np.ndarray, cat: np.ndarray, what: str) -> None:
        """Warn about or reject values of ``cat`` (n, k) whose one-hot block in ``onehot`` is all zero."""
        # Every known value sets exactly one 1 in its column's block, so an all-zero block marks an
        # unseen value (cheaper than searching the levels).
        start = 0
        for j, levels in enumerate(self.encoder_.categories_):
            block = onehot[:, start : start + len(levels)]
            start += len(levels)
            unknown = ~block.any(axis=1)
            if not unknown.any():
                continue
            rows = np.flatnonzero(unknown)
            values = list(dict.fromkeys(cat[rows[:1000], j].tolist()))  # first few distinct, in row order
            name = self.cat_names_[j]
            if self.handle_unknown == "error":
                raise DataError(
                    f"{what}: column {name!r} has value {values[0]!r} at row {rows[0]} (0-based) that was not seen "
                    f"in fit ({rows.size} such row(s)); refit on data that has it or use handle_unknown='ignore'"
                )
            shown = ", ".join(repr(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
            warnings.warn(
                f"{what}: column {name!r} has {rows.size} row(s) with value(s) not seen in fit ({shown}); "
                "they are encoded as all-zero one-hot columns",
                UnknownCategoryWarning,
                stacklevel=4,
            )

    def _names_out(self) -> list[str]:
        names: list[str] = []
        if self.encoder_ is not None:
            names += [str(n) for n in self.encoder_.get_feature_names_out(self.cat_names_)]
        names += list(self.num_names_)
        return names


# --------------------------------------------------------------------------------------------------
# user-facing table preprocessing
# --------------------------------------------------------------------------------------------------


class TablePreprocessor(TransformerMixin, BaseEstimator):
    """One-hot + scaling for a mixed table (NumPy array or pandas DataFrame), a scikit-learn transformer.

    The constructor only stores the parameters (validated by :meth:`fit`), so :func:`sklearn.base.clone`,
    ``get_params``/``set_params``, pipelines and grid searches work as for scikit-learn's own transformers.

    Parameters
    ----------
    categorical : "auto", None or sequence of column names / positions
        Which columns to one-hot encode.  ``"auto"``: for a DataFrame, every column whose dtype is not
        numeric (object, string, category, bool); for a NumPy array, a bool array is all categorical, a
        numeric array has none, and in a string/object array a column is categorical unless all its
        values are numbers (Python bools count as categorical).  ``None`` or ``[]``: no categorical
        column.  Categorical values are compared as strings (``1`` and ``"1"`` are the same level).
    scale : {"standard", "minmax", "none"}
        ``"standard"``: z-score with the fit data's mean and standard deviation; ``"minmax"``: the fit
        data's range maps to [0, 1] (test values outside it map outside [0, 1]); ``"none"``: as is.
    handle_unknown : {"ignore", "error"}
        Unseen categories at transform time: all-zero one-hot block plus an
        :class:`UnknownCategoryWarning`, or :class:`DataError`.
    dtype : numpy dtype
        Dtype of the output (float32, what the models take, by default).

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : list of str
        Input column names (``x0, x1, ...`` for arrays), set by ``fit``.
    categorical_columns_, numeric_columns_ : list of str
        How ``fit`` split the columns.
    encoder_ : MixedEncoder
        The fitted one-hot encoder and scaler.
    n_features_out_ : int
        Width of the output.
    """

    def __init__(
        self,
        categorical: str | Sequence[str | int] | None = "auto",
        scale: str = "standard",
        handle_unknown: str = "ignore",
        dtype: Any = np.float32,
    ) -> None:
        self.categorical = categorical
        self.scale = scale
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # string/object columns are one-hot encoded
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")

    def fit(self, X: Any, y: Any = None) -> TablePreprocessor:
        """Learn the levels and scaling from ``X`` (the training rows only). ``y`` is ignored."""
        _check_choice("scale", self.scale, SCALERS)
        _check_choice("handle_unknown", self.handle_unknown, _HANDLE_UNKNOWN)
        names, is_frame = self._column_names(X)
        cat_idx = self._categorical_positions(X, names, is_frame)
        self.n_features_in_ = len(names)
        self.feature_names_in_ = names
        self._is_frame = is_frame
        self.categorical_columns_ = [names[i] for i in cat_idx]
        self.numeric_columns_ = [n for i, n in enumerate(names) if i not in set(cat_idx)]
        cat, num = self._blocks(X, "fit data")
        self.encoder_ = MixedEncoder(self.scale, self.handle_unknown, "auto", self.dtype)
        self.encoder_.fit(cat, num, self.categorical_columns_, self.numeric_columns_)
        self.n_features_out_ = len(self.encoder_.feature_names_out_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X``: array ``(n_rows, n_features_out_)`` of ``dtype``."""
        self._check_fitted()
        cat, num = self._blocks(X, "data")
        return self.encoder_.transform(cat, num, "data")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names: ``"<column>_<level>"`` for one-hot columns, then the numeric columns.

        ``input_features``, when given, must be the fitted input names (scikit-learn's convention).
        """
        self._check_fitted()
        if input_features is not None and [str(f) for f in input_features] != list(self.feature_names_in_):
            raise DataError(f"input_features {list(input_features)[:20]} differ from the fitted columns "
                            f"{self.feature_names_in_[:20]}; pass those or None")
        return self.encoder_.get_feature_names_out()

    def state_dict(self) -> dict[str, Any]:
        """The fitted preprocessor as plain data (lists, str, floats: what a ``weights_only`` checkpoint holds)."""
        self._check_fitted()
        return {
            "kind": "TablePreprocessor",
            "categorical": self.categorical if self.categorical in (None, "auto") else list(self.categorical),
            "feature_names_in": list(self.feature_names_in_),
            "is_frame": bool(self._is_frame),
            "categorical_columns": list(self.categorical_columns_),
            "numeric_columns": list(self.numeric_columns_),
            "encoder": self.encoder_.state_dict(),
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> TablePreprocessor:
        """Rebuild a fitted preprocessor from :meth:`state_dict` output (parameters included, so ``clone`` of the
        result is the unfitted preprocessor it was fitted from)."""
        if not isinstance(state, Mapping) or state.get("kind") != "TablePreprocessor":
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise DataError(f"expected a TablePreprocessor state, got {kind!r}; was it saved by memae?")
        encoder = MixedEncoder.from_state_dict(state["encoder"])
        pre = cls(state.get("categorical", "auto"), encoder.scale, encoder.handle_unknown, encoder.dtype)
        pre.feature_names_in_ = list(state["feature_names_in"])
        pre.n_features_in_ = len(pre.feature_names_in_)
        pre._is_frame = bool(state["is_frame"])
        pre.categorical_columns_ = list(state["categorical_columns"])
        pre.numeric_columns_ = list(state["numeric_columns"])
        pre.encoder_ = encoder
        pre.n_features_out_ = len(encoder.feature_names_out_)
        return pre

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise PreprocessorNotFittedError(
                "this TablePreprocessor is not fitted yet; call fit() on the training data first"
            )

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _column_names(X: Any) -> tuple[list[str], bool]:
        if is_dataframe(X):
            names = [str(c) for c in X.columns]
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                raise DataError(f"table has duplicate column names {dup}; rename them")
            return names, True
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(f"expected a 2-D table (n_rows, n_columns), got an array of shape {arr.shape}")
        return [f"x{j}" for j in range(arr.shape[1])], False

    def _categorical_positions(self, X: Any, names: list[str], is_frame: bool) -> list[int]:
        spec = self.categorical
        if spec is None:
            return []
        if isinstance(spec, str) and spec == "auto":
            return self._auto_categorical(X, is_frame)
        if isinstance(spec, str):
            raise ConfigError(f"categorical={spec!r} is not supported; use 'auto', None or a list of columns")
        positions = []
        for item in spec:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not -len(names) <= item < len(names):
                    raise ConfigError(f"categorical column position {item} is out of range for {len(names)} columns")
                positions.append(int(item) % len(names))
            elif str(item) in names:
                positions.append(names.index(str(item)))
            else:
                raise ConfigError(
                    f"categorical column {item!r} is not in the table (columns: {', '.join(names[:20])}"
                    f"{', ...' if len(names) > 20 else ''}); fix the column list"
                )
        return sorted(set(positions))

    @staticmethod
    def _auto_categorical(X: Any, is_frame: bool) -> list[int]:
        if is_frame:
            pd = _require_pandas("a DataFrame")
            types = pd.api.types
            return [
                j
                for j, (_, s) in enumerate(X.items())
                if types.is_bool_dtype(s.dtype) or not types.is_numeric_dtype(s.dtype)
            ]
        arr = np.asarray(X)
        if arr.dtype.kind == "b":
            return list(range(arr.shape[1]))
        if arr.dtype.kind in "iuf":
            return []
        return [j for j in range(arr.shape[1]) if not _all_numbers(arr[:, j])]

    def _blocks(self, X: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        """Split ``X`` into (categorical values as str objects, numeric float64) in the fitted order."""
        names, is_frame = self._column_names(X)
        fitted = self.feature_names_in_
        if is_frame and self._is_frame:
            missing = [n for n in fitted if n not in names]
            extra = [n for n in names if n not in fitted]
            if missing or extra:
                raise DataError(
                    f"{what}: columns differ from fit time (missing: {missing or 'none'}, unexpected: "
                    f"{extra or 'none'}); pass the same columns"
                )
            cols = {n: X.iloc[:, names.index(n)] for n in fitted}
            cat = [_categorical_values(cols[n].to_numpy(dtype=object), n, what) for n in self.categorical_columns_]
            numeric = ((n, cols[n].to_numpy()) for n in self.numeric_columns_)
        else:
            arr = X.to_numpy(dtype=object) if is_frame else np.asarray(X)
            if arr.shape[1] != len(fitted):
                raise DataError(
                    f"{what}: has {arr.shape[1]} columns but the preprocessor was fitted on {len(fitted)}; "
                    "pass the same columns in the same order"
                )
            if not is_frame and arr.dtype.kind in "biuf" and not self.categorical_columns_:
                # an all-numeric array is its own numeric block: no copy at all for float64 (it is only read)
                return np.empty((arr.shape[0], 0), dtype=object), arr.astype(np.float64, copy=False)
            cat = [_categorical_values(arr[:, fitted.index(n)], n, what) for n in self.categorical_columns_]
            numeric = ((n, arr[:, fitted.index(n)]) for n in self.numeric_columns_)
        n_rows = len(X) if is_frame else np.asarray(X).shape[0]
        cat_block = np.stack(cat, axis=1) if cat else np.empty((n_rows, 0), dtype=object)
        num_block = np.empty((n_rows, len(self.numeric_columns_)), dtype=np.float64)
        for j, (name, values) in enumerate(numeric):  # column by column into one block: no list of copies to stack
            num_block[:, j] = _numeric_values(values, name, what)
        return cat_block, num_block


def _is_missing(values: np.ndarray) -> np.ndarray:
    """Boolean mask of None / NaN / pandas NA / NaT cells in a 1-D array."""
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    return np.fromiter(
        (v is None or (isinstance(v, (float, np.floating)) and v != v) or type(v).__name__ in ("NAType", "NaTType")
         for v in values),
        dtype=bool,
        count=values.size,
    )  # fmt: skip


def _all_numbers(values: np.ndarray) -> bool:
    if values.dtype.kind == "O" and any(isinstance(v, (bool, np.bool_)) for v in values):
        return False
    try:
        values.astype(np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _categorical_values(values: np.ndarray, name: str, what: str) -> np.ndarray:
    missing = _is_missing(values)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{what}: missing value in categorical column {name!r} at row {row} (0-based; {int(missing.sum())} "
            "in all); fill it, e.g. with 'missing', or drop those rows"
        )
    return values.astype(str).astype(object)


def _numeric_values(values: np.ndarray, name: str, what: str) -> np.ndarray:
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)  # NaN/inf are reported by check_finite with row and column
    missing = _is_missing(values)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{what}: missing value in numeric column {name!r} at row {row} (0-based; {int(missing.sum())} "
            "in all); impute or drop those rows first"
        )
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        pass
    for row, v in enumerate(values):  # find the culprit for the message
        try:
            float(v)
        except (TypeError, ValueError):
            raise DataError(
                f"{what}: non-numeric value {v!r} in numeric column {name!r} at row {row} (0-based); "
                "fix the value or list the column as categorical"
            ) from None
    raise DataError(f"{what}: column {name!r} cannot be converted to numbers")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# whole-file checks (before any split, so that messages name the file's rows)
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# reading files
# --------------------------------------------------------------------------------------------------


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
