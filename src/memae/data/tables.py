"""Generic tabular data: read CSV/Parquet tables and turn mixed columns into a float matrix.

This module gathers the table names in one place; the reading is :mod:`.table_files`, the transformer
:mod:`.table_preprocessor` and the block encoder it shares with the KDD preprocessor :mod:`.table_encoding`.

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

from memae.data.table_encoding import (SCALERS, MixedEncoder, PreprocessorNotFittedError, UnknownCategoryWarning,
                                       check_finite, is_dataframe, make_one_hot, make_scaler)
from memae.data.table_files import LABEL_LIKE_NAMES, STRAY_SHARE, check_table_cells, read_table, warn_label_like_columns
from memae.data.table_preprocessor import TablePreprocessor, with_table_input_tags

__all__ = [
    "SCALERS",
    "MixedEncoder",
    "PreprocessorNotFittedError",
    "TablePreprocessor",
    "with_table_input_tags",
    "UnknownCategoryWarning",
    "check_finite",
    "check_table_cells",
    "is_dataframe",
    "warn_label_like_columns",
    "make_one_hot",
    "make_scaler",
    "read_table",
    "STRAY_SHARE",
    "LABEL_LIKE_NAMES",
]
