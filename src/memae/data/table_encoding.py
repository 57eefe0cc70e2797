"""The block encoder of mixed tables, shared by :class:`memae.data.tables.TablePreprocessor` and
:class:`memae.data.kdd.KDDPreprocessor`: :class:`MixedEncoder` one-hot encodes an ``(n, k)`` block of categorical
values and scales an ``(n, m)`` float block, with the scikit-learn pieces it is built from (:func:`make_one_hot`,
:func:`make_scaler`) and :func:`check_finite`, which names the first bad row and column."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

from memae.errors import ConfigError, DataError

__all__ = ["SCALERS", "UnknownCategoryWarning", "PreprocessorNotFittedError", "is_dataframe", "make_scaler",
           "make_one_hot", "check_finite", "MixedEncoder"]

#: Accepted values of ``scale``.
SCALERS: tuple[str, ...] = ("standard", "minmax", "none")
_HANDLE_UNKNOWN: tuple[str, ...] = ("ignore", "error")
_MINMAX_ATTRS = ("min_", "scale_", "data_min_", "data_max_", "data_range_")
_SCALE_CHUNK_ROWS = 65_536  # rows per scaler call in transform: bounds its float64 temporary (about 5 MB at 10 columns)


class UnknownCategoryWarning(UserWarning):
    """A categorical value not seen during ``fit`` was encoded as an all-zero one-hot block."""


class PreprocessorNotFittedError(DataError, NotFittedError):
    """A preprocessor used before ``fit``: a :class:`~memae.errors.DataError` (one line in the CLI) that
    scikit-learn also recognises as its ``NotFittedError``."""


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


def _refuse_missing(values: np.ndarray, name: str, what: str, kind: str, advice: str) -> None:
    """A :class:`DataError` naming the first missing value (None/NaN) of column ``name``, if there is one."""
    missing = _is_missing(values)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{what}: missing value in {kind} column {name!r} at row {row} (0-based; {int(missing.sum())} "
            f"in all); {advice}"
        )


def _categorical_values(values: np.ndarray, name: str, what: str) -> np.ndarray:
    _refuse_missing(values, name, what, "categorical", "fill it, e.g. with 'missing', or drop those rows")
    return values.astype(str).astype(object)


def _numeric_values(values: np.ndarray, name: str, what: str) -> np.ndarray:
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)  # NaN/inf are reported by check_finite with row and column
    _refuse_missing(values, name, what, "numeric", "impute or drop those rows first")
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
