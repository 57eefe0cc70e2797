"""KDD Cup 99 loading/preprocessing/splitting (real file + small synthetic files) and generic tables."""

from __future__ import annotations

import dataclasses
import gzip
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from memae.data.kdd import (
    KDD_FEATURES,
    KDDPreprocessor,
    kdd_split,
    load_kddcup99,
    parse_names_file,
)
from memae.data.tables import (
    TablePreprocessor,
    UnknownCategoryWarning,
    check_finite,
    read_table,
)
from memae.errors import ConfigError, DataError
from memae.scoring.inputs import read_table_for_model


@pytest.fixture(scope="module")
def kdd_root(datasets_root):
    return datasets_root / "kddcup99"


# One real row of the file (a normal. http connection); the synthetic files vary it.
ROW = (
    "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0.00,0.00,0.00,0.00,1.00,0.00,0.00,"
    "9,9,1.00,0.00,0.11,0.00,0.00,0.00,0.00,0.00,normal."
)


def _row(**changes: str) -> str:
    """ROW with some fields replaced, by feature name (``label`` for the last field)."""
    fields = ROW.split(",")
    names = [n for n, _ in KDD_FEATURES] + ["label"]
    for name, value in changes.items():
        fields[names.index(name)] = value
    return ",".join(fields)


SMALL_ROWS = [
    _row(),
    _row(service="smtp", src_bytes="10", label="smurf."),
    _row(protocol_type="udp", service="private", flag="S0", src_bytes="1000", label="neptune."),
    _row(service="smtp", duration="3", logged_in="0", label="normal."),
    _row(protocol_type="icmp", service="ecr_i", flag="REJ", src_bytes="0", label="smurf."),
]


def _write_kdd(folder: Path, rows: list[str], gz: bool = True, names: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(rows) + "\n"
    path = folder / ("kddcup.data_10_percent.gz" if gz else "kddcup.data_10_percent")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    if names:
        lines = ["back,normal,smurf.", ""] + [f"{n}: {k}." for n, k in KDD_FEATURES]
        (folder / "kddcup.names").write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------------------------------
# real KDD Cup 99 file
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kdd(kdd_root):
    if not (kdd_root / "kddcup.data_10_percent.gz").is_file():
        pytest.skip(f"real KDD Cup 99 data not found under {kdd_root}")
    return load_kddcup99(kdd_root)


@pytest.fixture(scope="module")
def split(kdd):
    return kdd_split(kdd.n_rows, kdd.is_anomaly, seed=0)


@pytest.fixture(scope="module")
def fitted(kdd, split):
    return KDDPreprocessor().fit(kdd, split.train_normal_idx)


@pytest.mark.slow
def test_real_kdd_counts(kdd):
    assert kdd.n_rows == 494021
    assert int(kdd.is_anomaly.sum()) == 97278  # the original normal. traffic is the anomaly class
    counts = kdd.label_counts()
    assert len(counts) == 23
    assert list(counts.items())[:3] == [("smurf.", 280790), ("neptune.", 107201), ("normal.", 97278)]
    assert kdd.text_names == ("protocol_type", "service", "flag")
    assert len(kdd.numeric_names) == 38 and kdd.numeric.shape == (494021, 38)
    assert kdd.feature_names == tuple(n for n, _ in KDD_FEATURES)
    levels = kdd.levels()
    assert {k: len(v) for k, v in levels.items()} == {
        "protocol_type": 3, "service": 66, "flag": 11,
        "land": 2, "logged_in": 2, "is_host_login": 1, "is_guest_login": 2,
    }  # fmt: skip
    assert kdd.column("src_bytes").max() == 693375640.0


def test_names_file_matches_builtin_columns(kdd_root):
    if not (kdd_root / "kddcup.names").is_file():
        pytest.skip("kddcup.names not found")
    assert parse_names_file(kdd_root / "kddcup.names") == KDD_FEATURES
    assert sum(k == "symbolic" for _, k in KDD_FEATURES) == 7


@pytest.mark.slow
def test_matches_dagmm_reference_file(kdd_root, kdd):
    """Min-max fitted on all attack rows + one-hot of the text columns == danieltan07/dagmm's kdd_cup.npz."""
    npz = kdd_root / "dagmm_preprocessed" / "kdd_cup.npz"
    if not npz.is_file():
        pytest.skip("DAGMM reference file not found")
    rows = np.arange(0, kdd.n_rows, 5)  # a fifth of the rows keeps the check quick
    ref = _npz_rows(npz, "kdd", rows)
    pre = KDDPreprocessor(dtype=np.float64).fit(kdd, ~kdd.is_anomaly)
    assert pre.n_features_out_ == 118 == ref.shape[1] - 1
    ours = pre.transform(kdd, rows)
    np.testing.assert_allclose(ours, ref[:, :118], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ref[:, 118] == 1.0, kdd.is_anomaly[rows])
    names = pre.get_feature_names_out()
    assert list(names[:4]) == ["protocol_type_icmp", "protocol_type_tcp", "protocol_type_udp", "service_IRC"]
    assert list(names[79:82]) == ["flag_SH", "duration", "src_bytes"]


def _npz_rows(path: Path, key: str, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of a 2-D Fortran-ordered array in an .npz, streamed one column at a time.

    (pandas wrote the DAGMM file column-major; streaming keeps memory at one column, not 470 MB.)
    """
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        assert fortran and len(shape) == 2
        out = np.empty((rows.size, shape[1]), dtype=dtype)
        for j in range(shape[1]):
            out[:, j] = np.frombuffer(f.read(shape[0] * dtype.itemsize), dtype=dtype)[rows]
    return out


@pytest.mark.slow
def test_output_dimensions(kdd, split, fitted):
    assert fitted.n_features_out_ == 118  # levels from all rows: same width for every seed
    assert KDDPreprocessor(one_hot="symbolic").fit(kdd, split.train_normal_idx).n_features_out_ == 121
    # levels learnt from the training attacks only: fewer services, unseen ones warned about
    strict = KDDPreprocessor(categories="fit").fit(kdd, split.train_normal_idx)
    assert strict.n_features_out_ < 118
    with pytest.warns(UnknownCategoryWarning, match="'service'"):
        z = strict.transform(kdd, split.test_idx[:50000])
    assert z.shape == (50000, strict.n_features_out_)


@pytest.mark.slow
def test_scaler_statistics_come_from_training_rows(kdd, split, fitted):
    scaler = fitted.encoder_.scaler_  # statistics of exactly the training rows
    train = kdd.numeric[split.train_normal_idx]
    np.testing.assert_array_equal(scaler.data_min_, train.min(0))
    np.testing.assert_array_equal(scaler.data_max_, train.max(0))
    z_train = fitted.transform(kdd, split.train_normal_idx[::3])
    test_idx = split.test_idx[::2]
    z_test = fitted.transform(kdd, test_idx)
    assert z_train.dtype == np.float32 and z_test.shape == (test_idx.size, 118)
    assert z_train.min() >= 0.0 and z_train.max() <= 1.0 + 1e-6
    assert z_test.max() > 1.0  # normal. traffic has byte counts beyond the training attacks' range
    col = list(fitted.get_feature_names_out()).index("src_bytes")
    train_src = kdd.column("src_bytes")[split.train_normal_idx]
    expected = (kdd.column("src_bytes")[test_idx] - train_src.min()) / (train_src.max() - train_src.min())
    np.testing.assert_allclose(z_test[:, col], expected, rtol=1e-5, atol=1e-7)
    # one-hot part: exactly one 1 per text column in every row
    assert np.all(z_test[:, :80].sum(axis=1) == 3)


def test_split_protocol(kdd, split):
    n = kdd.n_rows
    assert split.train_idx.size == n // 2 == 247010 and split.test_idx.size == n - n // 2
    seen = np.zeros(n, dtype=np.int64)
    np.add.at(seen, split.train_idx, 1)
    np.add.at(seen, split.test_idx, 1)
    assert (seen == 1).all()  # disjoint halves covering every row
    assert not kdd.is_anomaly[split.train_normal_idx].any()
    in_train = np.zeros(n, dtype=bool)
    in_train[split.train_idx] = True
    assert in_train[split.train_normal_idx].all()
    assert split.train_normal_idx.size == int((~kdd.is_anomaly[split.train_idx]).sum())
    again = kdd_split(n, kdd.is_anomaly, seed=0)
    other = kdd_split(n, kdd.is_anomaly, seed=1)
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(split.train_idx, other.train_idx)


def test_split_arguments():
    flags = np.array([True, False, False, True, False, False])
    s = kdd_split(6, flags, seed=3, train_fraction=0.5)
    assert (s.train_idx.size, s.test_idx.size) == (3, 3)
    assert kdd_split(6, flags, seed=3, train_fraction=1 / 3).train_idx.size == 2
    with pytest.raises(ConfigError, match="train_fraction"):
        kdd_split(6, flags, seed=0, train_fraction=1.0)
    with pytest.raises(DataError, match=r"shape \(7,\)"):
        kdd_split(7, flags, seed=0)


# --------------------------------------------------------------------------------------------------
# KDD loader and preprocessor on small synthetic files
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("names", [True, False])
def test_load_small_file(tmp_path, gz, names):
    path = _write_kdd(tmp_path / "kdd", SMALL_ROWS, gz=gz, names=names)
    for target in (path, path.parent):
        data = load_kddcup99(target)
        assert data.n_rows == 5
        assert data.is_anomaly.tolist() == [True, False, False, True, False]
        assert data.text.tolist()[2] == ["udp", "private", "S0"]
        assert data.column("src_bytes").tolist() == [181, 10, 1000, 181, 0]
        assert data.column("logged_in").tolist() == [1, 1, 1, 0, 1]
        assert data.symbolic_names == ("protocol_type", "service", "flag", "land", "logged_in", "is_host_login",
                                       "is_guest_login")  # fmt: skip


def test_load_errors(tmp_path):
    with pytest.raises(DataError, match="no KDD Cup 99 data file"):
        load_kddcup99(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        load_kddcup99(tmp_path / "missing.gz")
    short = SMALL_ROWS[:2] + [ROW.rsplit(",", 2)[0] + ",normal."] + SMALL_ROWS[2:]
    with pytest.raises(DataError, match=r"line 3 has 41 comma-separated fields, expected 42"):
        load_kddcup99(_write_kdd(tmp_path / "a", short))
    with pytest.raises(DataError, match=r"line 2, column 'src_bytes': 'abc' is not a number"):
        load_kddcup99(_write_kdd(tmp_path / "b", [ROW, _row(src_bytes="abc")]))
    with pytest.raises(DataError, match=r"line 2, column 'dst_bytes': value nan is not finite"):
        load_kddcup99(_write_kdd(tmp_path / "c", [ROW, _row(dst_bytes="nan")]))
    bad_names = tmp_path / "bad.names"
    bad_names.write_text("back,normal.\nduration: continuous.\nprotocol_type: text.\n")
    with pytest.raises(DataError, match="line 3 should read"):
        parse_names_file(bad_names)
    with pytest.raises(DataError, match="line 1 has 42 comma-separated fields, expected 3"):
        load_kddcup99(_write_kdd(tmp_path / "d", [ROW]), names_file=_names(tmp_path, 2))


def _names(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"first{n}.names"
    path.write_text("".join(f"{name}: {kind}.\n" for name, kind in KDD_FEATURES[:n]))
    return path


def test_minmax_on_train_rows_only(tmp_path):
    data = load_kddcup99(_write_kdd(tmp_path, SMALL_ROWS))
    train = [1, 2]  # src_bytes 10 and 1000
    pre = KDDPreprocessor(scale="minmax").fit(data, train)
    z = pre.transform(data)
    col = list(pre.get_feature_names_out()).index("src_bytes")
    np.testing.assert_allclose(z[:, col], (np.array([181, 10, 1000, 181, 0]) - 10) / 990, rtol=1e-6)
    assert z[4, col] < 0  # below the training minimum -> below 0
    zs = KDDPreprocessor(scale="standard", dtype=np.float64).fit(data, train).transform(data, train)
    np.testing.assert_allclose(zs[:, col], [-1.0, 1.0])
    with pytest.raises(ConfigError, match="scale='l2'"):
        KDDPreprocessor(scale="l2")


def test_unseen_category_handling(tmp_path):
    data = load_kddcup99(_write_kdd(tmp_path, SMALL_ROWS))
    train = [0, 1, 3]  # tcp http/smtp SF only
    pre = KDDPreprocessor(categories="fit").fit(data, train)
    names = list(pre.get_feature_names_out())
    assert [n for n in names if n.startswith("service_")] == ["service_http", "service_smtp"]
    with pytest.warns(UnknownCategoryWarning) as record:
        z = pre.transform(data)
    messages = [str(w.message) for w in record]
    assert len(messages) == 3  # one per column with unseen values
    assert "column 'service' has 2 row(s) with value(s) not seen in fit ('private', 'ecr_i')" in messages[1]
    service = [i for i, n in enumerate(names) if n.startswith("service_")]
    assert z[2, service].tolist() == [0.0, 0.0] and z[0, service].tolist() == [1.0, 0.0]
    strict = KDDPreprocessor(categories="fit", handle_unknown="error").fit(data, train)
    with pytest.raises(DataError, match=r"column 'protocol_type' has value 'udp' at row 2"):
        strict.transform(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known rows only: no warning
        strict.transform(data, train)
    # default categories="all": levels from every row of the data given to fit, no unknowns
    assert KDDPreprocessor().fit(data, train).n_features_out_ == 3 + 4 + 3 + 38


def test_transform_rejects_bad_data(tmp_path):
    data = load_kddcup99(_write_kdd(tmp_path / "a", SMALL_ROWS))
    pre = KDDPreprocessor().fit(data)
    numeric = data.numeric.copy()
    numeric[3, data.numeric_names.index("count")] = np.inf
    with pytest.raises(DataError, match=r"inf at row 3, column 'count'"):
        pre.transform(dataclasses.replace(data, numeric=numeric))
    fewer = load_kddcup99(_write_kdd(tmp_path / "b", [",".join(r.split(",")[:10] + [r.split(",")[-1]])
                                                      for r in SMALL_ROWS]), names_file=_names(tmp_path, 10))
    with pytest.raises(DataError, match="columns differ from fit time"):
        pre.transform(fewer)
    with pytest.raises(DataError, match="not fitted"):
        KDDPreprocessor().transform(data)
    restored = pickle.loads(pickle.dumps(pre))
    np.testing.assert_array_equal(restored.transform(data), pre.transform(data))


@pytest.mark.parametrize("scale", ["minmax", "standard", "none"])
def test_preprocessor_state_round_trip(tmp_path, frame, scale):
    """Plain-data state (what a weights_only checkpoint can hold) rebuilds the same transform."""
    torch = pytest.importorskip("torch")
    path = _write_kdd(tmp_path / "k", SMALL_ROWS)
    data = load_kddcup99(path)
    kdd_pre = KDDPreprocessor(scale=scale, one_hot="symbolic").fit(data, [0, 1, 2])
    X = frame.drop(columns=["label"])
    table_pre = TablePreprocessor(scale=scale).fit(X)
    saved = tmp_path / "state.pt"
    torch.save({"kdd": kdd_pre.state_dict(), "table": table_pre.state_dict()}, saved)
    loaded = torch.load(saved, weights_only=True)
    kdd_back = KDDPreprocessor.from_state_dict(loaded["kdd"])
    np.testing.assert_array_equal(kdd_back.transform(data), kdd_pre.transform(data))
    assert list(kdd_back.get_feature_names_out()) == list(kdd_pre.get_feature_names_out())
    table_back = TablePreprocessor.from_state_dict(loaded["table"])
    np.testing.assert_array_equal(table_back.transform(X), table_pre.transform(X))
    with pytest.raises(DataError, match="expected a TablePreprocessor state, got 'KDDPreprocessor'"):
        TablePreprocessor.from_state_dict(loaded["kdd"])
    # read_table_for_model applies the saved preprocessing (memae score)
    csv = tmp_path / "new.csv"
    frame.to_csv(csv, index=False)
    x, ids, y = read_table_for_model(csv, {"extra": {"preprocessor": loaded["table"]}}, label_column="label")
    np.testing.assert_array_equal(x, table_pre.transform(X))
    assert ids == ["0", "1", "2", "3"] and y.tolist() == [0, 1, 0, 1]
    x, ids, y = read_table_for_model(path, {"extra": {"preprocessor": loaded["kdd"]}})
    np.testing.assert_array_equal(x, kdd_pre.transform(data))
    assert y.tolist() == data.is_anomaly.tolist() == [True, False, False, True, False]


# --------------------------------------------------------------------------------------------------
# generic tables
# --------------------------------------------------------------------------------------------------


@pytest.fixture()
def frame():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "colour": ["red", "blue", "red", "green"],
            "size": [1.0, 2.0, 3.0, 4.0],
            "flag": [True, False, True, True],
            "count": [10, 20, 30, 40],
            "label": [0, 1, 0, 1],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_table(tmp_path, frame, suffix):
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pytest.importorskip("pyarrow")
        frame.to_parquet(path)
    X, y, names = read_table(path, label_column="label")
    assert names == ["colour", "size", "flag", "count"] == list(X.columns)
    assert y.tolist() == [0, 1, 0, 1]
    assert X["colour"].tolist() == ["red", "blue", "red", "green"]
    X2, y2, names2 = read_table(path)
    assert y2 is None and names2 == ["colour", "size", "flag", "count", "label"] and len(X2) == 4
    with pytest.raises(DataError, match="label column 'target' not found"):
        read_table(path, label_column="target")


def test_read_table_for_model_without_preprocessor(tmp_path, frame):
    csv = tmp_path / "t.csv"
    frame[["size", "count", "label"]].to_csv(csv, index=False)
    x, ids, y = read_table_for_model(csv, {"extra": {}}, label_column="label")
    assert x.dtype == np.float32 and x.tolist() == [[1, 10], [2, 20], [3, 30], [4, 40]] and len(ids) == 4
    frame.to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"columns \['colour'\] are not numeric"):
        read_table_for_model(csv, {"extra": {}})


def test_read_table_errors(tmp_path):
    pytest.importorskip("pandas")
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown table format"):
        read_table(tmp_path / "t.xlsx")


def test_table_preprocessor_dataframe(frame):
    X = frame.drop(columns=["label"])
    pre = TablePreprocessor().fit(X.iloc[:3])  # "auto": object and bool columns are categorical
    assert pre.categorical_columns_ == ["colour", "flag"] and pre.numeric_columns_ == ["size", "count"]
    assert list(pre.get_feature_names_out()) == [
        "colour_blue", "colour_red", "flag_False", "flag_True", "size", "count",
    ]  # fmt: skip
    with pytest.warns(UnknownCategoryWarning, match=r"column 'colour' has 1 row\(s\) .*'green'"):
        z = pre.transform(X)
    assert z.dtype == np.float32 and z.shape == (4, 6)
    assert z[3, :2].tolist() == [0.0, 0.0]  # unseen green: all-zero block
    # standard scaling with the first three rows' statistics: size 1,2,3 -> mean 2, std sqrt(2/3)
    np.testing.assert_allclose(z[:, 4], (np.array([1, 2, 3, 4]) - 2) / np.sqrt(2 / 3), rtol=1e-6)
    mm = TablePreprocessor(scale="minmax").fit(X.iloc[:3])
    with pytest.warns(UnknownCategoryWarning):
        assert mm.transform(X)[3, 4] == pytest.approx(1.5)  # 4 is beyond the training range [1, 3]
    err = TablePreprocessor(handle_unknown="error").fit(X.iloc[:3])
    with pytest.raises(DataError, match=r"column 'colour' has value 'green' at row 3"):
        err.transform(X)
    with pytest.raises(DataError, match=r"missing: \['count'\]"):
        pre.transform(X.drop(columns=["count"]))
    nan = X.copy()
    nan.loc[2, "size"] = np.nan
    with pytest.raises(DataError, match=r"nan at row 2, column 'size'"):
        pre.transform(nan)
    missing_cat = X.copy()
    missing_cat["colour"] = ["red", None, "red", "blue"]
    with pytest.raises(DataError, match=r"missing value in categorical column 'colour' at row 1"):
        pre.transform(missing_cat)


def test_table_preprocessor_numpy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * [1, 10, 100] + [0, 5, -5]
    pre = TablePreprocessor(dtype=np.float64).fit(X)
    z = pre.transform(X)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-12)
    assert list(pre.get_feature_names_out()) == ["x0", "x1", "x2"]
    with pytest.raises(DataError, match="has 2 columns but the preprocessor was fitted on 3"):
        pre.transform(X[:, :2])
    bad = X.copy()
    bad[7, 1] = np.inf
    with pytest.raises(DataError, match=r"inf at row 7, column 'x1'"):
        pre.transform(bad)
    mixed = np.array([["a", 1.5, 2], ["b", 2.5, 3], ["a", 3.5, 4]], dtype=object)
    mp = TablePreprocessor(scale="minmax").fit(mixed)
    assert mp.categorical_columns_ == ["x0"]
    np.testing.assert_allclose(mp.transform(mixed), [[1, 0, 0, 0], [0, 1, 0.5, 0.5], [1, 0, 1, 1]])
    numbers = np.array([[0, 1.5, 2], [1, 2.5, 3], [0, 3.5, 4]])
    explicit = TablePreprocessor(categorical=[2], scale="none").fit(numbers)
    assert list(explicit.get_feature_names_out()) == ["x2_2.0", "x2_3.0", "x2_4.0", "x0", "x1"]
    np.testing.assert_allclose(explicit.transform(numbers)[1], [0, 1, 0, 1, 2.5])
    with pytest.raises(ConfigError, match="categorical column 'colour' is not in the table"):
        TablePreprocessor(categorical=["colour"]).fit(X)
    robust = TablePreprocessor(scale="robust")  # the constructor only stores (scikit-learn's convention)
    with pytest.raises(ConfigError, match="scale="):
        robust.fit(X)
    with pytest.raises(DataError, match=r"expected a 2-D table"):
        TablePreprocessor().fit(X[:, 0])


def test_table_preprocessor_is_a_sklearn_transformer(frame):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X = frame.drop(columns=["label"])
    pre = TablePreprocessor(categorical=["colour"], scale="minmax", handle_unknown="error")
    assert pre.get_params() == {"categorical": ["colour"], "scale": "minmax", "handle_unknown": "error",
                                "dtype": np.float32}
    with pytest.raises(NotFittedError):
        check_is_fitted(pre)
    with pytest.raises(DataError, match="not fitted"):  # a DataError (one CLI line) and scikit-learn's error
        pre.transform(X)
    assert pre.fit(X) is pre
    check_is_fitted(pre)
    assert pre.n_features_in_ == 4 and pre.categorical_columns_ == ["colour"]
    copy = clone(pre)
    assert copy.get_params() == pre.get_params() and copy.categorical is not pre.categorical
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    np.testing.assert_array_equal(copy.fit_transform(X), pre.transform(X))
    copy.set_params(scale="none")
    assert copy.fit_transform(X)[:, -1].tolist() == [10, 20, 30, 40]  # count, unscaled
    named = TablePreprocessor().set_output(transform="pandas").fit(X).transform(X)  # a DataFrame with the names
    assert list(named.columns) == list(TablePreprocessor().fit(X).get_feature_names_out(X.columns))
    restored = TablePreprocessor.from_state_dict(pre.state_dict())
    check_is_fitted(restored)
    assert clone(restored).get_params() == pre.get_params()  # the state keeps the parameters
    with pytest.raises(DataError, match="input_features"):
        pre.get_feature_names_out(["a", "b"])


def test_check_finite():
    ok = check_finite([[1.0, 2.0]], "x")
    assert ok.dtype == np.float64
    with pytest.raises(DataError, match=r"features: nan at row 1, column 'b' \(0-based; 2 non-finite"):
        check_finite(np.array([[0, 1], [2, np.nan], [np.inf, 3]]), "features", ["a", "b"])
    with pytest.raises(DataError, match=r"scores: -inf at row 2 "):
        check_finite(np.array([0.0, 1.0, -np.inf]), "scores")
