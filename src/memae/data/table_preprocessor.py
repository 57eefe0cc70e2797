"""User-facing table preprocessing: :class:`TablePreprocessor`, a scikit-learn transformer that splits a
table (DataFrame or array) into its categorical and numeric columns and encodes them with
:class:`memae.data.table_encoding.MixedEncoder`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from memae.data.table_encoding import (SCALERS, MixedEncoder, PreprocessorNotFittedError, _all_numbers,
                                       _categorical_values, _check_choice, _HANDLE_UNKNOWN, _numeric_values,
                                       _require_pandas, is_dataframe)
from memae.errors import ConfigError, DataError

__all__ = ["TablePreprocessor", "with_table_input_tags"]


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
        return with_table_input_tags(super().__sklearn_tags__())

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


def with_table_input_tags(tags: Any) -> Any:
    """scikit-learn's tags of an estimator that takes raw tables through :class:`TablePreprocessor` (also
    :class:`memae.MemAEDetector`): string and categorical columns are encoded, NaN is refused."""
    tags.input_tags.string = True  # string/object columns are one-hot encoded
    tags.input_tags.categorical = True
    tags.input_tags.allow_nan = False
    return tags
