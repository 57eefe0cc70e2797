"""KDD Cup 1999 network-intrusion data in the DAGMM/MemAE anomaly-detection protocol.

Data
----
:func:`load_kddcup99` reads the raw comma-separated file (``kddcup.data_10_percent[.gz]``; gzip is
detected from the magic bytes, not the name): 41 feature fields and a label such as ``normal.`` or
``smurf.``.  Column names and kinds come from ``kddcup.names`` when it is given or lies beside the data
file, else from the built-in standard order (:data:`KDD_FEATURES`, identical to that file).  The 10 %
file has 494021 rows; 97278 (19.69 %) are ``normal.``.

Protocol (DAGMM, Zong et al. 2018, followed by MemAE): the ``normal.`` traffic is the minority, so it
is treated as the *anomaly* class (``is_anomaly``) and the attacks as the normal class.  50 % of all
rows, drawn at random, form the training half and the rest the test half; models train only on the
normal-class (attack) rows of the training half (:func:`memae.data.splits.kdd_split`).

Preprocessing and its dimension
-------------------------------
The 41 features are: 3 symbolic columns with text values -- ``protocol_type`` (3 levels in the 10 %
file), ``service`` (66) and ``flag`` (11) --, 4 columns that ``kddcup.names`` marks *symbolic* but that
hold 0/1 -- ``land``, ``logged_in``, ``is_host_login`` (always 0 in the 10 % file) and
``is_guest_login`` -- and 34 continuous columns (``num_outbound_cmds`` is always 0 in the 10 % file).

:class:`KDDPreprocessor` offers two encodings:

* ``one_hot="text"`` (default, the DAGMM re-implementations' rule): one-hot the 3 text columns and
  keep the 38 other columns numeric: 3 + 66 + 11 + 38 = **118** features.  This is exactly the
  118-feature file ``kdd_cup.npz`` of the widely used PyTorch DAGMM re-implementation
  (danieltan07/dagmm), which one-hots the three text columns with ``pandas.get_dummies`` over the
  whole file (levels sorted, as here) and min-max scales 31 continuous columns with the minimum and
  maximum of the *attack* rows; its 7 other numeric columns (the four 0/1 columns, ``root_shell``,
  ``su_attempted``, ``num_outbound_cmds``) are left raw.  Min-max scaling all 38 columns on the attack
  rows gives the same numbers, because those 7 columns have attack-row minimum 0 and maximum 1 or 0
  (a zero range maps ``x -> x - min``), so ``tests/test_data_tables.py`` checks this class against
  that file value by value.
* ``one_hot="symbolic"``: one-hot every column ``kddcup.names`` marks symbolic, the 0/1 ones too:
  3 + 66 + 11 + 2 + 2 + 1 + 2 = 87 one-hot + 34 continuous = **121** features (``is_host_login``
  contributes one column because it has one level in the 10 % file).

The DAGMM paper, and MemAE after it, quote **120** input dimensions.  Neither paper states the rule,
and no rule we know of gives 120 on this file: 120 is, for instance, the "symbolic" encoding minus the
constant ``num_outbound_cmds`` column, or the "text" encoding with two more service levels, but that
is guesswork.  The difference does not matter to the models, which take the input width from the
data; the default is the 118 that the public DAGMM reference file has.

Statistics: the scaler (``scale="minmax"`` by default, as DAGMM; ``"standard"`` for z-scores) is fitted
on the rows passed to :meth:`KDDPreprocessor.fit` only -- pass the training rows, normally
``split.train_normal_idx`` --, so test values outside the training range map outside [0, 1].  The
one-hot *levels* are by default (``categories="all"``) taken from every row of the
:class:`KDDData` given to ``fit`` (the file's vocabulary, as ``get_dummies`` over the whole file did)
so that the width is 118 for every split and seed; ``categories="fit"`` learns them from the fit rows
only (a level no training row has then becomes an all-zero block at transform time, with a warning):
fitted on the training attacks of ``kdd_split(..., seed=0)`` that gives 112 features, the 6 missing
being services that only normal traffic uses there.  (The DAGMM reference file took its min/max from
the attack rows of the whole file, test half included; here that is only what you get if you fit on
those rows, as the cross-check test does.)

Speed: loading the 10 % file takes about 4 s and fitting + transforming all rows about 2 s on one
busy CPU core; nothing is cached on disk.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memae.data.splits import KDDSplit, kdd_split  # the split lives with the others; re-exported here
from memae.data.tables import SCALERS, MixedEncoder, check_finite
from memae.errors import ConfigError, DataError

__all__ = [
    "DATA_FILE_NAMES",
    "KDD_FEATURES",
    "KDD_NORMAL_LABELS",
    "KDDData",
    "KDDPreprocessor",
    "KDDSplit",
    "kdd_split",
    "load_kddcup99",
    "parse_names_file",
]

#: The 41 KDD Cup 99 features in file order, with their kind as in ``kddcup.names``.
KDD_FEATURES: tuple[tuple[str, str], ...] = tuple(
    (name, "symbolic" if name in {"protocol_type", "service", "flag", "land", "logged_in", "is_host_login",
                                  "is_guest_login"} else "continuous")
    for name in (
        "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land", "wrong_fragment",
        "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised", "root_shell", "su_attempted",
        "num_root", "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds",
        "is_host_login", "is_guest_login", "count", "srv_count", "serror_rate", "srv_serror_rate",
        "rerror_rate", "srv_rerror_rate", "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate",
        "dst_host_count", "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
        "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
        "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
    )
)  # fmt: skip

#: Labels of the original normal traffic -- the ANOMALY class in this protocol.  Some copies of the
#: data (e.g. scikit-learn's) drop the trailing dot.
KDD_NORMAL_LABELS: tuple[str, ...] = ("normal.", "normal")

#: File names :func:`load_kddcup99` looks for, in this order, when given a folder.
DATA_FILE_NAMES: tuple[str, ...] = (
    "kddcup.data_10_percent.gz",
    "kddcup.data_10_percent",
    "kddcup.data_10_percent_corrected",
    "kddcup.data_10_percent_corrected.gz",
    "kddcup.data.gz",
    "kddcup.data",
    "kddcup.data.corrected",
)
NAMES_FILE_NAME = "kddcup.names"
_GZIP_MAGIC = b"\x1f\x8b"
_KINDS = ("continuous", "symbolic")


# --------------------------------------------------------------------------------------------------
# the data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KDDData:
    """KDD Cup 99 rows, split into a numeric block and a text block.

    Attributes
    ----------
    numeric : numpy.ndarray, float64, shape (n, m)
        Every feature whose values are numbers (continuous ones and the 0/1 symbolic ones), file order.
    numeric_names : tuple of str, length m
    text : numpy.ndarray of str, shape (n, k)
        The symbolic features with text values (``protocol_type``, ``service``, ``flag``).
    text_names : tuple of str, length k
    labels : numpy.ndarray of str, shape (n,)
        Original labels, e.g. ``"normal."``, ``"smurf."``.
    feature_names : tuple of str
        All features in file order (``m + k`` of them).
    symbolic_names : tuple of str
        Features the names file marks ``symbolic`` (text ones and 0/1 ones).
    source : str
        Where the rows came from (for messages).
    is_anomaly : numpy.ndarray of bool, shape (n,)
        True for the original ``normal.`` rows (the anomaly class of the DAGMM protocol).
    """

    numeric: np.ndarray
    numeric_names: tuple[str, ...]
    text: np.ndarray
    text_names: tuple[str, ...]
    labels: np.ndarray
    feature_names: tuple[str, ...]
    symbolic_names: tuple[str, ...]
    source: str = "<memory>"
    is_anomaly: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.labels.shape[0]
        if self.numeric.ndim != 2 or self.numeric.shape != (n, len(self.numeric_names)):
            raise DataError(
                f"{self.source}: numeric block has shape {self.numeric.shape}, "
                f"expected ({n}, {len(self.numeric_names)})"
            )
        if self.text.ndim != 2 or self.text.shape != (n, len(self.text_names)):
            raise DataError(
                f"{self.source}: text block has shape {self.text.shape}, expected ({n}, {len(self.text_names)})"
            )
        if sorted(self.feature_names) != sorted(self.numeric_names + self.text_names):
            raise DataError(f"{self.source}: feature_names must list the numeric and text columns exactly once")
        is_anomaly = np.zeros(n, dtype=bool)
        for label in KDD_NORMAL_LABELS:  # elementwise == is much faster than np.isin on strings
            is_anomaly |= self.labels == label
        object.__setattr__(self, "is_anomaly", is_anomaly)

    @property
    def n_rows(self) -> int:
        return int(self.labels.shape[0])

    def __len__(self) -> int:
        return self.n_rows

    def subset(self, rows: Any) -> KDDData:
        """The rows ``rows`` (integer indices or a boolean mask of length ``n_rows``) as a new KDDData."""
        idx = _row_index(rows, self.n_rows, self.source)
        return KDDData(
            numeric=self.numeric[idx],
            numeric_names=self.numeric_names,
            text=self.text[idx],
            text_names=self.text_names,
            labels=self.labels[idx],
            feature_names=self.feature_names,
            symbolic_names=self.symbolic_names,
            source=self.source,
        )

    def column(self, name: str) -> np.ndarray:
        """One feature's values, shape (n,)."""
        if name in self.numeric_names:
            return self.numeric[:, self.numeric_names.index(name)]
        if name in self.text_names:
            return self.text[:, self.text_names.index(name)]
        raise DataError(f"{self.source}: no feature named {name!r}; features are {', '.join(self.feature_names)}")

    def levels(self) -> dict[str, np.ndarray]:
        """Sorted distinct values of every symbolic feature (text and 0/1 ones), as strings."""
        return {name: _distinct(_as_level_strings(self.column(name))) for name in self.symbolic_names}

    def label_counts(self) -> dict[str, int]:
        """Rows per label, most frequent first."""
        values, counts = np.unique(self.labels, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {str(values[i]): int(counts[i]) for i in order}

    def to_frame(self, with_label: bool = False) -> Any:
        """The features (and optionally the ``label`` column) as a pandas DataFrame, in file order."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover
            raise DataError("KDDData.to_frame needs pandas; run: pip install 'memae[tables]'") from exc
        frame = pd.DataFrame({name: self.column(name) for name in self.feature_names})
        if with_label:
            frame["label"] = self.labels
        return frame


def _row_index(rows: Any, n: int, source: str) -> np.ndarray:
    idx = np.asarray(rows)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise DataError(f"{source}: boolean row mask has shape {idx.shape}, expected ({n},)")
        return np.flatnonzero(idx)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise DataError(
            f"{source}: rows must be a 1-D array of integer indices or a boolean mask, got {idx.dtype} {idx.shape}"
        )
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise DataError(f"{source}: row index out of range for {n} rows (min {idx.min()}, max {idx.max()})")
    return idx.astype(np.intp, copy=False)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-D object array (hashing: much faster than ``np.unique`` on objects)."""
    return np.array(sorted(set(values.tolist())), dtype=object)


def _as_level_strings(values: np.ndarray) -> np.ndarray:
    """Symbolic values as an object array of str; numbers print without ``.0`` (``1.0 -> "1"``)."""
    if values.dtype.kind in "iuf":  # format each distinct number once (0/1 columns have two)
        distinct, inverse = np.unique(values, return_inverse=True)
        return np.char.mod("%g", distinct).astype(object)[inverse]
    if values.dtype.kind == "O":
        return values
    return values.astype(str).astype(object)


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------


def parse_names_file(path: str | os.PathLike[str]) -> tuple[tuple[str, str], ...]:
    """Read ``kddcup.names``: the feature ``(name, kind)`` pairs, kind ``"continuous"`` or ``"symbolic"``.

    The first line (the list of attack types) and blank lines are skipped; every other line must read
    ``name: continuous.`` or ``name: symbolic.``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read names file ({exc.strerror or exc}); check the path") from exc
    features: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or (not features and ":" not in line):  # blank or the class list
            continue
        name, sep, kind = line.partition(":")
        kind = kind.strip().rstrip(".").strip()
        if not sep or not name.strip() or kind not in _KINDS:
            raise DataError(
                f"{path}: line {lineno} should read 'name: continuous.' or 'name: symbolic.', got {line[:60]!r}"
            )
        features.append((name.strip(), kind))
    if not features:
        raise DataError(f"{path}: no 'name: kind.' lines found; is this kddcup.names?")
    names = [n for n, _ in features]
    if len(set(names)) != len(names):
        raise DataError(f"{path}: duplicate feature names {sorted({n for n in names if names.count(n) > 1})}")
    return tuple(features)


def _find_data_file(root: Path) -> Path:
    for name in DATA_FILE_NAMES:
        if (root / name).is_file():
            return root / name
    raise DataError(
        f"{root}: no KDD Cup 99 data file found (looked for {', '.join(DATA_FILE_NAMES)}); "
        "point the path at the file or at the folder that holds it"
    )


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read KDD Cup 99 file ({exc.strerror or exc}); check the path") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip data ({exc}); re-download the file") from exc
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: non-ASCII byte at offset {exc.start}; is this the KDD Cup 99 CSV file?") from exc


def load_kddcup99(
    path_or_root: str | os.PathLike[str], names_file: str | os.PathLike[str] | None = None
) -> KDDData:
    """Load the raw KDD Cup 99 file.

    Parameters
    ----------
    path_or_root : path-like
        The data file (plain or gzipped CSV, 41 features + label per line) or a folder holding one of
        :data:`DATA_FILE_NAMES` (the 10 % file first).
    names_file : path-like, optional
        ``kddcup.names`` giving column names and kinds.  By default a ``kddcup.names`` beside the data
        file is used if present, else the built-in :data:`KDD_FEATURES`.

    Returns
    -------
    KDDData
        With ``is_anomaly`` true for the ``normal.`` rows (the DAGMM protocol's anomaly class).
    """
    path = Path(path_or_root)
    if path.is_dir():
        path = _find_data_file(path)
    elif not path.exists():
        raise DataError(f"{path}: no such file or folder; point it at the KDD Cup 99 data file or its folder")
    if names_file is None and (path.parent / NAMES_FILE_NAME).is_file():
        names_file = path.parent / NAMES_FILE_NAME
    features = parse_names_file(names_file) if names_file is not None else KDD_FEATURES
    lines = _read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(f"{path}: file has no rows")
    _check_field_counts(lines, len(features), path)

    names = [n for n, _ in features]
    sym_idx = [j for j, (_, kind) in enumerate(features) if kind == "symbolic"]
    # A symbolic column whose first value is a number (land, logged_in, ...: 0/1) is read as numbers;
    # a later non-number in it is reported with its line by _loadtxt.
    first = lines[0].split(",")
    text_idx = [j for j in sym_idx if not _is_number(first[j])]
    num_idx = [j for j in range(len(features)) if j not in text_idx]
    n = len(lines)
    numeric = _loadtxt(lines, num_idx, np.float64, path, names) if num_idx else np.empty((n, 0))
    bad = ~np.isfinite(numeric)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {row + 1}, column {names[num_idx[col]]!r}: value {numeric[row, col]} is not finite; "
            "fix or remove that line"
        )
    # object arrays of str: cheaper to build and to one-hot encode than fixed-width numpy strings
    strings = _loadtxt(lines, [*text_idx, len(features)], object, path, names)
    text, labels = strings[:, :-1], strings[:, -1].astype(str)
    return KDDData(
        numeric=numeric,
        numeric_names=tuple(names[j] for j in num_idx),
        text=text,
        text_names=tuple(names[j] for j in text_idx),
        labels=labels,
        feature_names=tuple(names),
        symbolic_names=tuple(names[j] for j in sym_idx),
        source=str(path),
    )


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _check_field_counts(lines: list[str], n_features: int, path: Path) -> None:
    counts = np.fromiter((line.count(",") for line in lines), dtype=np.int64, count=len(lines))
    bad = np.flatnonzero(counts != n_features)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{path}: line {i + 1} has {counts[i] + 1} comma-separated fields, expected {n_features + 1} "
            f"({n_features} features + label; {bad.size} bad line(s) in all); is this the KDD Cup 99 file "
            "and does the names file match it?"
        )


def _loadtxt(lines: list[str], usecols: list[int], dtype: Any, path: Path, names: list[str]) -> np.ndarray:
    try:
        return np.loadtxt(lines, delimiter=",", usecols=usecols, dtype=dtype, comments=None, ndmin=2)
    except ValueError as exc:
        if dtype is object:  # pragma: no cover - field counts were checked, strings always parse
            raise DataError(f"{path}: cannot parse the file ({exc})") from exc
    # Find the first cell that is not a number, for the message (only on this failure path).
    for lineno, line in enumerate(lines, start=1):
        fields = line.split(",")
        for j in usecols:
            try:
                float(fields[j])
            except ValueError:
                raise DataError(
                    f"{path}: line {lineno}, column {names[j]!r}: {fields[j]!r} is not a number (the column "
                    "is continuous, or symbolic with a number on line 1); fix or remove that line"
                ) from None
    raise DataError(f"{path}: cannot parse the numeric columns")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------------------------------


class KDDPreprocessor:
    """One-hot + scaling of :class:`KDDData`, fitted on the training rows only.

    Parameters
    ----------
    scale : {"minmax", "standard", "none"}
        Scaler of the numeric columns: ``"minmax"`` (default, as DAGMM) maps the fit rows' range to
        [0, 1]; ``"standard"`` uses their mean and standard deviation.
    one_hot : {"text", "symbolic"}
        ``"text"``: one-hot ``protocol_type``, ``service``, ``flag`` (118 features on the 10 % file);
        ``"symbolic"``: also the 0/1 symbolic columns (121 features).  See the module docstring.
    categories : "all", "fit" or mapping
        One-hot levels: ``"all"`` -- every level in the :class:`KDDData` passed to :meth:`fit` (all its
        rows, not only ``rows``), a stable width; ``"fit"`` -- the levels of the fit rows only; a mapping
        ``{column: levels}`` -- exactly those levels.
    handle_unknown : {"ignore", "error"}
        A level not among the categories at transform time: all-zero one-hot block plus an
        :class:`~memae.data.tables.UnknownCategoryWarning`, or :class:`~memae.errors.DataError`.
    dtype : numpy dtype
        Output dtype (float32 by default).
    """

    def __init__(
        self,
        scale: str = "minmax",
        one_hot: str = "text",
        categories: str | Mapping[str, Sequence[Any]] = "all",
        handle_unknown: str = "ignore",
        dtype: Any = np.float32,
    ) -> None:
        if scale not in SCALERS:
            raise ConfigError(f"scale={scale!r} is not supported; use one of {', '.join(map(repr, SCALERS))}")
        if one_hot not in ("text", "symbolic"):
            raise ConfigError(f"one_hot={one_hot!r} is not supported; use 'text' (DAGMM, 118 features) or 'symbolic'")
        if isinstance(categories, str) and categories not in ("all", "fit"):
            raise ConfigError(
                f"categories={categories!r} is not supported; use 'all', 'fit' or a {{column: levels}} mapping"
            )
        if handle_unknown not in ("ignore", "error"):
            raise ConfigError(f"handle_unknown={handle_unknown!r} is not supported; use 'ignore' or 'error'")
        self.scale = scale
        self.one_hot = one_hot
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    def fit(self, data: KDDData, rows: Any = None) -> KDDPreprocessor:
        """Learn the scaling from ``data`` rows ``rows`` (all rows if None); levels per ``categories``."""
        cat_names = list(data.text_names)
        if self.one_hot == "symbolic":
            cat_names += [n for n in data.symbolic_names if n not in data.text_names]
        num_names = [n for n in data.numeric_names if n not in cat_names]
        self.cat_names_, self.num_names_ = cat_names, num_names
        self.numeric_names_in_, self.text_names_in_ = data.numeric_names, data.text_names
        if isinstance(self.categories, str) and self.categories == "all":
            levels = [_distinct(_as_level_strings(data.column(n))) for n in cat_names]
        elif isinstance(self.categories, str):
            levels = "auto"
        else:
            missing = [n for n in cat_names if n not in self.categories]
            if missing:
                raise ConfigError(
                    f"categories mapping lacks levels for {missing}; give levels for every one-hot column"
                )
            levels = [_distinct(np.asarray(self.categories[n]).astype(str).astype(object)) for n in cat_names]
        fit_data = data if rows is None else data.subset(rows)
        self.encoder_ = MixedEncoder(self.scale, self.handle_unknown, levels, self.dtype)
        cat, num = self._blocks(fit_data, "fit rows")
        self.encoder_.fit(cat, num, cat_names, num_names)
        self.n_features_out_ = len(self.encoder_.feature_names_out_)
        return self

    def transform(self, data: KDDData, rows: Any = None) -> np.ndarray:
        """Encode ``data`` (rows ``rows`` if given): array (n_rows, n_features_out_), one-hot columns first."""
        if not hasattr(self, "encoder_"):
            raise DataError("this KDDPreprocessor is not fitted yet; call fit() on the training rows first")
        if data.numeric_names != self.numeric_names_in_ or data.text_names != self.text_names_in_:
            expected = set(self.numeric_names_in_) | set(self.text_names_in_)
            got = set(data.numeric_names) | set(data.text_names)
            raise DataError(
                f"{data.source}: columns differ from fit time (missing: {sorted(expected - got) or 'none'}, "
                f"unexpected: {sorted(got - expected) or 'none'}, or a different order); "
                "load it with the same names file"
            )
        part = data if rows is None else data.subset(rows)
        cat, num = self._blocks(part, data.source)
        return self.encoder_.transform(cat, num, data.source)

    def fit_transform(self, data: KDDData, rows: Any = None) -> np.ndarray:
        return self.fit(data, rows).transform(data, rows)

    def get_feature_names_out(self) -> np.ndarray:
        """``"<column>_<level>"`` for the one-hot columns (e.g. ``service_http``), then the numeric names."""
        if not hasattr(self, "encoder_"):
            raise DataError("this KDDPreprocessor is not fitted yet; call fit() on the training rows first")
        return self.encoder_.get_feature_names_out()

    def state_dict(self) -> dict[str, Any]:
        """The fitted preprocessor as plain data (lists, str, floats: what a ``weights_only`` checkpoint holds)."""
        if not hasattr(self, "encoder_"):
            raise DataError("this KDDPreprocessor is not fitted yet; call fit() on the training rows first")
        return {
            "kind": "KDDPreprocessor",
            "one_hot": self.one_hot,
            "categories": self.categories if isinstance(self.categories, str) else "mapping",
            "cat_names": list(self.cat_names_),
            "num_names": list(self.num_names_),
            "numeric_names_in": list(self.numeric_names_in_),
            "text_names_in": list(self.text_names_in_),
            "encoder": self.encoder_.state_dict(),
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> KDDPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`state_dict` output."""
        if not isinstance(state, Mapping) or state.get("kind") != "KDDPreprocessor":
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise DataError(f"expected a KDDPreprocessor state, got {kind!r}; was it saved by memae?")
        encoder = MixedEncoder.from_state_dict(state["encoder"])
        categories = state.get("categories", "all")
        pre = cls(encoder.scale, state["one_hot"], categories if categories in ("all", "fit") else "all",
                  encoder.handle_unknown, encoder.dtype)  # fmt: skip
        pre.cat_names_, pre.num_names_ = list(state["cat_names"]), list(state["num_names"])
        pre.numeric_names_in_ = tuple(state["numeric_names_in"])
        pre.text_names_in_ = tuple(state["text_names_in"])
        pre.encoder_ = encoder
        pre.n_features_out_ = len(encoder.feature_names_out_)
        return pre

    def _blocks(self, data: KDDData, what: str) -> tuple[np.ndarray, np.ndarray]:
        check_finite(data.numeric, what, list(data.numeric_names))
        # object arrays of str: scikit-learn encodes them faster than fixed-width numpy strings
        cat_cols = [_as_level_strings(data.column(n)) for n in self.cat_names_]
        cat = np.stack(cat_cols, axis=1) if cat_cols else np.empty((data.n_rows, 0), dtype=object)
        num_pos = [data.numeric_names.index(n) for n in self.num_names_]
        if num_pos == list(range(len(data.numeric_names))):
            return cat, data.numeric  # no copy in the default "text" encoding
        return cat, data.numeric[:, num_pos]
