"""MemAEDetector: scikit-learn API checks, detection quality on planted anomalies, tables, persistence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_outlier_contamination,
    parametrize_with_checks,
)

from memae.data.tables import TablePreprocessor, UnknownCategoryWarning
from memae.detector import DetectorParameterError, MemAEDetector
from memae.errors import CheckpointError, ConfigError, DataError, UnknownNameError
from memae.training.checkpoint import load_model, save_checkpoint

pd = pytest.importorskip("pandas")

FAST = dict(epochs=2, batch_size=64, device="cpu", random_state=0)


# -- scikit-learn's estimator checks ---------------------------------------------------------------------------
# All of check_estimator's API and legacy checks run (about 40), and, since MemAEDetector declares itself an
# "outlier_detector" (PyOD does the same, so that sklearn.base.is_outlier_detector is True), the outlier checks
# too.  Three of those are expected to fail by design: they assert scikit-learn's label convention (-1/+1,
# negative decision_function = outlier), and MemAEDetector follows PyOD's (0/1, higher score = more anomalous).
# check_outlier_contamination runs below, with check_dataframe_column_names_consistency, which check_estimator leaves
# to scikit-learn's own test suite (as it does check_param_validation, which reads scikit-learn's private parameter
# constraints; test_every_parameter_is_validated_in_fit does its job here).  check_array_api_input skips itself
# (SCIPY_ARRAY_API unset; the model is torch, not array-API code).
_PYOD_CONVENTION = "PyOD's convention: labels 0/1 and higher score = more anomalous, not scikit-learn's -1/+1"


@parametrize_with_checks(
    [MemAEDetector(**FAST)],
    expected_failed_checks=lambda est: {
        "check_outliers_train": _PYOD_CONVENTION,
        "check_outliers_fit_predict": _PYOD_CONVENTION,
        "check_outlier_corruption": _PYOD_CONVENTION,
    },
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check", [check_outlier_contamination, check_dataframe_column_names_consistency]
)
def test_sklearn_checks_outside_the_default_set(check):
    check("MemAEDetector", MemAEDetector(**FAST))


# -- data ------------------------------------------------------------------------------------------------------


def planted(n_normal: int, n_anomalies: int, rng: np.random.Generator, mixing: np.ndarray):
    """Normal rows near a 3-D linear manifold in 12-D (a correlated Gaussian); anomalies with the same per-column
    spread but independent columns, i.e. off the manifold.  Returns shuffled ``X (n, 12)`` and ``y`` (1 = anomaly)."""
    normal = rng.normal(size=(n_normal, mixing.shape[0])) @ mixing + 0.1 * rng.normal(size=(n_normal, mixing.shape[1]))
    anomalies = rng.normal(size=(n_anomalies, mixing.shape[1])) * normal.std(axis=0)
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(n_normal), np.ones(n_anomalies)].astype(int)
    order = rng.permutation(len(X))
    return X[order], y[order]


def mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Two numeric columns tied to a categorical one, plus a bool column."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=n)
    offset = pd.Series(colour).map({"red": -2.0, "green": 0.0, "blue": 2.0}).to_numpy()
    a = offset + 0.1 * rng.normal(size=n)
    return pd.DataFrame({"colour": colour, "a": a, "b": 2 * a + 0.1 * rng.normal(size=n), "flag": rng.random(n) < 0.5})


@pytest.fixture(scope="module")
def small():
    X = np.random.default_rng(1).normal(size=(120, 5))
    return X, MemAEDetector(**FAST).fit(X)


@pytest.fixture(scope="module")
def frame_fit():
    frame = mixed_frame(240)
    return frame, MemAEDetector(epochs=3, batch_size=32, device="cpu", random_state=0).fit(frame)


# -- detection quality -----------------------------------------------------------------------------------------


def test_planted_anomalies_are_found():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, 12))
    X_train, y_train = planted(2000, 100, rng, mixing)
    X_test, y_test = planted(1000, 50, rng, mixing)
    det = MemAEDetector(contamination=0.05, hidden=[8, 4], epochs=10, lr=1e-2, device="cpu", random_state=0)
    det.fit(X_train)

    auc = roc_auc_score(y_test, det.decision_function(X_test))
    assert auc > 0.9, f"held-out ROC-AUC {auc:.3f}"
    assert roc_auc_score(y_train, det.decision_scores_) > 0.9
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.002)  # contamination respected on the training rows
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 95))
    np.testing.assert_array_equal(det.labels_, (det.decision_scores_ > det.threshold_).astype(int))
    predicted = det.predict(X_test)
    assert set(np.unique(predicted)) <= {0, 1}
    assert predicted[y_test == 1].mean() > 0.5 > predicted[y_test == 0].mean()


# -- fitted attributes and scoring API -------------------------------------------------------------------------


def test_fitted_attributes(small):
    X, det = small
    assert det.n_features_in_ == 5
    assert not hasattr(det, "feature_names_in_")
    assert det.decision_scores_.shape == (120,) and det.decision_scores_.dtype == np.float64
    assert det.labels_.dtype.kind == "i" and det.labels_.sum() == 12  # 10 % of 120 rows, no ties
    assert len(det.history_) == 2 and {"train_loss", "val_loss"} <= set(det.history_[0])
    assert det.best_epoch_ in (0, 1)
    assert det.model_.memory is not None and det.model_.memory.num_slots == 50
    assert det.model_.memory.shrink_threshold == pytest.approx(1 / 50)
    assert det.preprocessor_.encoder_.scale == "standard"
    # the training scores are the scores decision_function gives the same rows
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_, rtol=1e-6)
    np.testing.assert_array_equal(det.predict(X), det.labels_)


def test_fit_predict_equals_predict_after_a_separate_fit():
    """fit_predict(X) on one detector gives the labels that predict(X) gives on another, fitted separately at the
    same seed: fitting is repeatable and the training labels are the threshold applied to the scores predict
    computes again."""
    X = np.random.default_rng(2).normal(size=(80, 4))
    labels = MemAEDetector(**FAST).fit_predict(X)
    separate = MemAEDetector(**FAST).fit(X)
    np.testing.assert_array_equal(labels, separate.predict(X))
    assert 0 < labels.sum() < len(X)  # both classes present: the equality says something


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_predict_proba(small, method):
    X, det = small
    proba = det.predict_proba(X, method=method)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.min() >= 0.0 and proba.max() <= 1.0
    order = np.argsort(det.decision_scores_)
    assert np.all(np.diff(proba[order, 1]) >= 0)  # monotone in the score
    if method == "linear":  # min-max over the training scores
        assert proba[order[0], 1] == pytest.approx(0.0, abs=1e-6)
        assert proba[order[-1], 1] == pytest.approx(1.0, abs=1e-6)


def test_predict_proba_unknown_method(small):
    X, det = small
    with pytest.raises(ValueError, match="'softmax'.*linear, unify"):  # PyOD raises ValueError too
        det.predict_proba(X, method="softmax")


@pytest.mark.parametrize("method", ["decision_function", "predict", "predict_proba"])
def test_not_fitted(method):
    with pytest.raises(NotFittedError):
        getattr(MemAEDetector(), method)(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        MemAEDetector().save("unused.pt")


def test_variants_and_preprocessing():
    X = np.random.default_rng(3).normal(size=(60, 4)) * 5 + 3
    ae = MemAEDetector(variant="ae", preprocessing="minmax", **FAST).fit(X)
    assert ae.model_.memory is None
    x = ae.preprocessor_.transform(X)
    assert x.min() == pytest.approx(0.0, abs=1e-6) and x.max() == pytest.approx(1.0, abs=1e-6)
    raw = MemAEDetector(variant="memae-nonspar", preprocessing=None, hidden=[3], num_slots=7, **FAST).fit(X)
    np.testing.assert_allclose(raw.preprocessor_.transform(X), X, rtol=1e-6)
    assert raw.model_.memory.num_slots == 7 and raw.model_.memory.shrink_threshold == 0.0
    assert [m.out_features for m in raw.model_.encoder if hasattr(m, "out_features")] == [3]


# -- parameters --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"contamination": 0.7}, "'contamination' parameter .* range \\(0.0, 0.5\\]"),
        ({"contamination": 0.0}, "'contamination'"),
        ({"num_slots": 0}, "'num_slots'"),
        ({"shrink_threshold": 1.5}, "'shrink_threshold'"),
        ({"shrink_threshold": "x/N"}, "shrink_threshold 'x/N'"),
        ({"shrink_threshold": "60/N"}, "shrink_threshold must lie in \\[0, 1\\)"),  # 60/50 >= 1
        ({"variant": "vae"}, "'variant'"),
        ({"hidden": [8, 0]}, "'hidden'"),
        ({"hidden": "big"}, "'hidden'"),
        ({"validation_fraction": 1.0}, "'validation_fraction'"),
        ({"preprocessing": "robust"}, "'preprocessing'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
    ],
)
def test_bad_parameters(params, match):
    det = MemAEDetector(**params)  # the constructor only stores
    assert det.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ConfigError, match=match):
        det.fit(np.zeros((10, 3)))


def test_parameter_errors_are_value_and_type_errors_like_sklearns():
    with pytest.raises(DetectorParameterError) as caught:
        MemAEDetector(contamination=0.9).fit(np.zeros((10, 3)))
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)  # scikit-learn's InvalidParameterError is both too


def test_every_parameter_is_validated_in_fit():
    """What scikit-learn's check_param_validation asserts: a value of no valid type makes fit raise, naming the
    parameter, with scikit-learn's message layout."""
    bad_type = type("BadType", (), {})()
    X = np.random.default_rng(0).uniform(size=(20, 5))
    for name in MemAEDetector().get_params(deep=False):
        det = MemAEDetector(**FAST).set_params(**{name: bad_type})
        for method in ("fit", "fit_predict"):
            with pytest.raises(DetectorParameterError, match=rf"The '{name}' parameter of MemAEDetector must be .* "
                                                             rf"Got .* instead."):
                getattr(det, method)(X)
    for name, value in [("num_slots", 2.5), ("epochs", 0), ("lr", 0.0), ("lr", float("nan")), ("random_state", -1),
                        ("verbose", -1), ("select", "best"), ("batch_size", np.int64(0))]:
        with pytest.raises(DetectorParameterError, match=rf"The '{name}' parameter"):
            MemAEDetector(**{**FAST, name: value}).fit(X)
    for name, value in [("num_slots", np.int64(3)), ("lr", np.float32(0.01)), ("verbose", True), ("hidden", (4, 2)),
                        ("device", torch.device("cpu")), ("random_state", np.random.RandomState(0))]:
        MemAEDetector(**{**FAST, "epochs": 1, name: value})._check_params()  # accepted


def test_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        MemAEDetector(0.1)  # type: ignore[misc]


def test_clone_gives_unfitted_copy_with_same_params(small):
    _, det = small
    copy = clone(det)
    assert copy.get_params() == det.get_params()
    with pytest.raises(NotFittedError):
        copy.decision_function(np.zeros((2, 5)))
    custom = MemAEDetector(hidden=[4, 2], preprocessing=TablePreprocessor(categorical=["a"], handle_unknown="error"))
    cloned = clone(custom)
    assert cloned.get_params()["hidden"] == [4, 2]
    assert cloned.preprocessing is not custom.preprocessing and cloned.preprocessing.handle_unknown == "error"


# -- determinism -------------------------------------------------------------------------------------------------


def test_same_random_state_same_scores_and_global_rng_untouched():
    X = np.random.default_rng(4).normal(size=(100, 6))
    np.random.seed(123)
    torch.manual_seed(123)
    expected_np, expected_torch = np.random.rand(), torch.rand(1).item()
    np.random.seed(123)
    torch.manual_seed(123)
    first = MemAEDetector(**FAST).fit(X)
    assert (np.random.rand(), torch.rand(1).item()) == (expected_np, expected_torch)  # fit left them alone
    second = MemAEDetector(**FAST).fit(X)
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    np.testing.assert_array_equal(first.decision_function(X[:10]), second.decision_function(X[:10]))
    other = MemAEDetector(**{**FAST, "random_state": 1}).fit(X)
    assert not np.allclose(first.decision_scores_, other.decision_scores_)


def test_same_seed_same_scores_as_before_the_split_by_index():
    """Reference from memae at commit 7ba821b, whose fit copied the table for the train/validation split; fit now
    gathers batches by index (same rows, same order), so the same seed gives the same model and scores."""
    X = np.random.default_rng(3).normal(size=(300, 6)) * [1, 2, 3, 4, 5, 6]
    # lr and network pinned: the reference predates the lr 3e-3 default and the relu/BatchNorm/dropout network
    det = MemAEDetector(epochs=3, batch_size=64, lr=1e-3, activation="tanh", batch_norm=False, dropout=0.0,
                        device="cpu", random_state=0).fit(X)
    assert det.best_epoch_ == 2
    reference = [2.1147923469543457, 3.3783862590789795, 0.2556542754173279, 0.9486858248710632]
    np.testing.assert_allclose(det.decision_scores_[:4], reference, rtol=1e-5)  # tolerance: other BLAS builds
    assert det.decision_scores_.sum() == pytest.approx(323.44080287218094, rel=1e-5)


# -- tables: DataFrames, categories, bad input -------------------------------------------------------------------


def test_dataframe_with_categorical_columns(frame_fit):
    frame, det = frame_fit
    assert det.n_features_in_ == 4
    np.testing.assert_array_equal(det.feature_names_in_, ["colour", "a", "b", "flag"])
    assert det.preprocessor_.categorical_columns_ == ["colour", "flag"]
    assert det.model_.encoder[0].in_features == 3 + 2 + 2  # colour one-hot, flag one-hot, a, b
    scores = det.decision_function(frame.iloc[:20])
    assert scores.shape == (20,) and np.isfinite(scores).all()
    # a row that breaks the colour <-> value relation scores higher than the typical training row
    odd = frame.iloc[:1].copy()
    odd["colour"] = "red" if odd["colour"].iloc[0] != "red" else "blue"
    odd["a"], odd["b"] = 8.0, -16.0
    assert det.decision_function(odd)[0] > np.median(det.decision_scores_)


def test_unseen_category_warns_and_scores(frame_fit):
    frame, det = frame_fit
    new = frame.iloc[:5].copy()
    new.loc[new.index[0], "colour"] = "purple"
    with pytest.warns(UnknownCategoryWarning, match="colour"):
        scores = det.decision_function(new)
    assert np.isfinite(scores).all()
    strict = MemAEDetector(preprocessing=TablePreprocessor(handle_unknown="error"), **FAST).fit(frame)
    with pytest.raises(DataError, match="purple"):
        strict.predict(new)


def test_nan_and_inf_are_reported_by_column(frame_fit):
    frame, det = frame_fit
    bad = frame.copy()
    bad.loc[bad.index[7], "b"] = np.nan
    with pytest.raises(DataError, match=r"NaN.*row 7, column 'b'"):
        MemAEDetector(**FAST).fit(bad)
    with pytest.raises(DataError, match=r"column 'b'"):
        det.decision_function(bad)
    missing_category = frame.copy()
    missing_category.loc[missing_category.index[3], "colour"] = None
    with pytest.raises(DataError, match=r"categorical column 'colour' at row 3"):
        MemAEDetector(**FAST).fit(missing_category)
    X = np.random.default_rng(5).normal(size=(30, 4))
    X[3, 2] = np.inf
    with pytest.raises(DataError, match=r"inf at row 3, column 2"):
        MemAEDetector(**FAST).fit(X)


def test_wrong_number_of_columns(small, frame_fit):
    X, det = small
    with pytest.raises(DataError, match="X has 4 features, but MemAEDetector is expecting 5 features"):
        det.predict(X[:, :4])
    frame, fdet = frame_fit
    with pytest.raises(DataError, match="Feature names seen at fit time, yet now missing:\n- b"):
        fdet.decision_function(frame.drop(columns=["b"]))
    with pytest.raises(ValueError):  # a 1-D row is refused rather than guessed
        det.decision_function(X[0])


# -- persistence -------------------------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, frame_fit):
    frame, det = frame_fit
    path = det.save(tmp_path / "sub" / "detector.pt")
    assert sorted(p.name for p in path.parent.iterdir()) == ["detector.pt"]  # no temp file left behind
    raw = torch.load(path, weights_only=True)  # plain tensors and data only
    assert raw["extra"]["threshold"] == det.threshold_

    loaded = MemAEDetector.load(path)
    assert loaded.get_params() == det.get_params()
    np.testing.assert_array_equal(loaded.decision_function(frame), det.decision_function(frame))
    np.testing.assert_array_equal(loaded.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(loaded.labels_, det.labels_)
    np.testing.assert_array_equal(loaded.feature_names_in_, det.feature_names_in_)
    np.testing.assert_allclose(loaded.predict_proba(frame, method="unify"), det.predict_proba(frame, method="unify"))
    assert loaded.threshold_ == det.threshold_ and loaded.n_features_in_ == 4 and loaded.history_ == det.history_
    # the file is also an ordinary memae checkpoint (so `memae score` can use it)
    model = load_model(path)
    x = torch.from_numpy(det.preprocessor_.transform(frame.iloc[:4]))
    torch.testing.assert_close(model(x)[0], det.model_(x)[0])


def test_save_load_keeps_a_preprocessor_parameter(tmp_path):
    X = np.random.default_rng(6).normal(size=(50, 3))
    det = MemAEDetector(preprocessing=TablePreprocessor(scale="minmax", handle_unknown="error"), **FAST).fit(X)
    loaded = MemAEDetector.load(det.save(tmp_path / "d.pt"))
    assert isinstance(loaded.preprocessing, TablePreprocessor)
    assert (loaded.preprocessing.scale, loaded.preprocessing.handle_unknown) == ("minmax", "error")
    np.testing.assert_array_equal(loaded.decision_function(X), det.decision_function(X))


def test_the_default_network_is_the_table_recipes_and_the_papers_is_one_setting_away():
    from memae.config import TABLE_RECIPE

    X = np.random.default_rng(8).normal(size=(80, 5))
    default = MemAEDetector(**FAST).fit(X)
    assert [type(m).__name__ for m in default.model_.encoder][:4] == ["Linear", "BatchNorm1d", "ReLU", "Dropout"]
    assert (default.activation, default.batch_norm, default.dropout) == (
        TABLE_RECIPE.activation, TABLE_RECIPE.batch_norm, TABLE_RECIPE.dropout)
    paper = MemAEDetector(activation="tanh", batch_norm=False, dropout=0.0, **FAST).fit(X)
    assert {type(m).__name__ for m in paper.model_.encoder} == {"Linear", "Tanh"}


def test_pyod_layer_options_build_that_network_and_survive_save_load(tmp_path):
    X = np.random.default_rng(7).normal(size=(80, 5))
    det = MemAEDetector(hidden=[16, 8], activation="relu", batch_norm=True, dropout=0.2, **FAST).fit(X)
    layers = [type(m).__name__ for m in det.model_.encoder]
    assert layers == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]  # the code layer stays linear
    assert det.model_.encoder[3].p == 0.2 and det.model_.memory is not None
    loaded = MemAEDetector.load(det.save(tmp_path / "d.pt"))
    assert (loaded.activation, loaded.batch_norm, loaded.dropout) == ("relu", True, 0.2)
    np.testing.assert_array_equal(loaded.decision_function(X), det.decision_function(X))  # eval mode: no dropout
    for bad, match in (({"activation": "gelu"}, "activation"), ({"dropout": 1.0}, "dropout"),
                       ({"batch_norm": "yes"}, "batch_norm")):
        with pytest.raises(DetectorParameterError, match=match):
            MemAEDetector(**bad, **FAST).fit(X)


def test_load_reads_a_detector_saved_before_the_preprocessor_was_a_scikit_learn_transformer():
    """tests/data/detector_v1_minmax.pt: MemAEDetector(preprocessing=TablePreprocessor(scale="minmax",
    handle_unknown="error"), epochs=3, batch_size=64, device="cpu", random_state=0) fitted on the X below and
    saved by memae at commit 7ba821b (the preprocessing parameter written field by field)."""
    from pathlib import Path

    X = np.random.default_rng(3).normal(size=(300, 6)) * [1, 2, 3, 4, 5, 6]
    loaded = MemAEDetector.load(Path(__file__).parent / "data" / "detector_v1_minmax.pt")
    pre = loaded.preprocessing
    assert isinstance(pre, TablePreprocessor) and (pre.scale, pre.handle_unknown, pre.categorical) == (
        "minmax", "error", "auto")
    assert np.dtype(pre.dtype) == np.float32 and not hasattr(pre, "encoder_")  # the parameter, unfitted
    np.testing.assert_allclose(loaded.decision_function(X), loaded.decision_scores_, rtol=1e-6)  # the saved scores
    assert loaded.best_epoch_ == 2 and loaded.labels_.sum() == 30
    # saved before the network was a parameter: it reads back as the network it was trained with, so a refit of
    # the loaded parameters trains that network again, not today's default
    assert (loaded.activation, loaded.batch_norm, loaded.dropout) == ("tanh", False, 0.0)
    assert "Tanh" in {type(m).__name__ for m in loaded.model_.encoder}
    refit = clone(loaded).set_params(epochs=1).fit(X)
    assert {type(m).__name__ for m in refit.model_.encoder} == {type(m).__name__ for m in loaded.model_.encoder}


def test_load_refuses_other_files(tmp_path, small):
    _, det = small
    plain = save_checkpoint(tmp_path / "model.pt", det.model_)
    with pytest.raises(CheckpointError, match="not a saved MemAEDetector"):
        MemAEDetector.load(plain)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        MemAEDetector.load(tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        MemAEDetector.load(tmp_path / "missing.pt")
