"""Tests for the baseline detectors (OC-SVM, KDE, VAE, DSEBM, PixelCNN, DAGMM) and their registry.

Two tiny synthetic one-class problems, each solvable only by a method that learns the normal class:

* tables: normals lie near a 2-D plane in 10-D (plus 0.05 noise); anomalies have the SAME per-feature spread but no
  plane.  An untrained VAE scores about 0.6 ROC-AUC here, so a high AUC needs real learning.
* images (8x8, the ``digits`` architecture): normals are a horizontal bar plus noise, anomalies a vertical bar.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone, is_outlier_detector
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from memae.baselines import (
    BASELINES,
    DAGMMDetector,
    DSEBMDetector,
    KDEDetector,
    OneClassSVMDetector,
    PCADetector,
    PixelCNNDetector,
    VAEDetector,
    list_baselines,
    make_baseline,
)
from memae.baselines.dagmm import GMM, gmm_energy, gmm_from_assignments
from memae.baselines.pixelcnn import PixelCNN
from memae.errors import ConfigError, DataError, UnknownNameError
from memae.detector_base import BaseDetector

SMALL_MLP = {"hidden": (16, 4)}  # a short tanh MLP: trains in a few hundred steps, code wider than the plane
DEEP_TABLE_PARAMS = {
    "vae": dict(epochs=10, lr=3e-3, model_options=SMALL_MLP),
    "dsebm": dict(epochs=10, lr=3e-3, model_options=SMALL_MLP),
    "dagmm": dict(epochs=10, lr=3e-3, model_options=SMALL_MLP),
}
IMAGE_PARAMS = {
    "ocsvm": {},
    "kde": {},
    "vae": dict(epochs=5),
    "dsebm": dict(epochs=5),
    "pixelcnn": dict(epochs=10, hidden=32, lr=1e-2, batch_size=32),
    "dagmm": dict(epochs=5, lr=1e-3, batch_size=64),
}


# ----------------------------------------------------------------------------------------------- data
def make_tables(seed: int = 0, n_train: int = 1000, n_test: int = 100, dim: int = 10):
    """``(train normals, test rows, test labels)``: a noisy 2-D plane vs structure-less rows of the same spread."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(dim, 2)))[0] * np.sqrt(dim / 2)

    def normals(k: int) -> np.ndarray:
        return rng.normal(size=(k, 2)) @ basis.T + 0.05 * rng.normal(size=(k, dim))

    spread = np.sqrt(np.diag(basis @ basis.T) + 0.05**2)
    anomalies = rng.normal(size=(n_test, dim)) * spread
    test = np.concatenate([normals(n_test), anomalies]).astype(np.float32)
    return normals(n_train).astype(np.float32), test, np.r_[np.zeros(n_test), np.ones(n_test)]


def make_images(seed: int = 0, n_train: int = 200, n_test: int = 50):
    """8x8 images in [0, 1]: horizontal bar + noise (normal) vs vertical bar + noise (anomalous)."""
    rng = np.random.default_rng(seed)
    horizontal = np.zeros((8, 8), np.float32)
    horizontal[3:5, :] = 1
    vertical = horizontal.T.copy()

    def noisy(pattern: np.ndarray, k: int) -> np.ndarray:
        return np.clip(pattern + 0.1 * rng.normal(size=(k, 1, 8, 8)), 0, 1).astype(np.float32)

    test = np.concatenate([noisy(horizontal, n_test), noisy(vertical, n_test)])
    return noisy(horizontal, n_train), test, np.r_[np.zeros(n_test), np.ones(n_test)]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The networks here are tiny: one thread is ~5x faster than two on a shared, loaded 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tables():
    return make_tables()


@pytest.fixture(scope="module")
def images():
    return make_images()


def fit_score(name: str, train: np.ndarray, test: np.ndarray, **params) -> np.ndarray:
    if name in ("vae", "dsebm", "pixelcnn", "dagmm"):
        params.setdefault("device", "cpu")
    scores = make_baseline(name, **params).fit(train).decision_function(test)
    assert scores.shape == (len(test),) and scores.dtype == np.float64 and np.isfinite(scores).all()
    return scores


# ----------------------------------------------------------------------------------------------- detection
@pytest.mark.parametrize("name", ["ocsvm", "kde", "vae", "dsebm", "dagmm"])
def test_tables_detect_rows_off_the_plane(name, tables):
    train, test, labels = tables
    scores = fit_score(name, train, test, **DEEP_TABLE_PARAMS.get(name, {}))
    assert roc_auc_score(labels, scores) > 0.9


def test_tables_problem_needs_learning(tables):
    """Control: the same VAE, left untrained, does not solve the table problem (so the AUCs above mean something)."""
    train, test, labels = tables
    scores = fit_score("vae", train, test, epochs=1, lr=1e-9, model_options=SMALL_MLP)
    assert roc_auc_score(labels, scores) < 0.75


def test_dsebm_energy_score_also_detects(tables):
    train, test, labels = tables
    scores = fit_score("dsebm", train, test, score="energy", **DEEP_TABLE_PARAMS["dsebm"])
    assert roc_auc_score(labels, scores) > 0.9


@pytest.mark.parametrize("name", list(IMAGE_PARAMS))
def test_images_detect_the_other_pattern(name, images):
    train, test, labels = images
    scores = fit_score(name, train, test, **IMAGE_PARAMS[name])
    assert roc_auc_score(labels, scores) > 0.9


def test_untrained_pixelcnn_is_at_chance(images):
    train, test, labels = images
    scores = fit_score("pixelcnn", train, test, epochs=1, lr=1e-9, hidden=32)
    assert 0.25 < roc_auc_score(labels, scores) < 0.75


# ----------------------------------------------------------------------------------------------- registry & sklearn
def test_registry_lists_the_papers_baselines():
    assert list_baselines() == ["ocsvm", "kde", "pca", "vae", "dsebm", "pixelcnn", "dagmm"]
    expected = [OneClassSVMDetector, KDEDetector, PCADetector, VAEDetector, DSEBMDetector, PixelCNNDetector, DAGMMDetector]
    assert [BASELINES[n] for n in list_baselines()] == expected
    assert isinstance(make_baseline("kde", cv=4), KDEDetector)


def test_unknown_name_lists_the_choices():
    with pytest.raises(UnknownNameError) as info:
        make_baseline("isolation-forest")
    message = str(info.value)
    assert "isolation-forest" in message and all(name in message for name in BASELINES)


def test_unknown_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown option\(s\) gamma_typo.*valid options are.*nu"):
        make_baseline("ocsvm", gamma_typo=1.0)


@pytest.mark.parametrize("name", list(BASELINES))
def test_clone_and_get_params(name):
    detector = make_baseline(name, random_state=7)
    params = detector.get_params()
    assert params["random_state"] == 7
    twin = clone(detector)
    assert twin is not detector and twin.get_params() == params
    assert type(twin)(**params).get_params() == params  # the constructor only stores its arguments


@pytest.mark.parametrize(
    ("name", "params", "pattern"),
    [
        ("ocsvm", {"nu": 1.5}, "'nu' parameter of OneClassSVMDetector must be"),
        ("kde", {"bandwidths": [0.1, -1.0]}, "'bandwidths' parameter of KDEDetector must be"),
        ("kde", {"pca_components": 0}, "'pca_components' parameter of KDEDetector must be"),
        ("vae", {"epochs": 0}, "'epochs' parameter of VAEDetector must be"),
        ("dsebm", {"score": "likelihood"}, "'score' parameter of DSEBMDetector must be a str among"),
        ("pixelcnn", {"hidden": 0}, "'hidden' parameter of PixelCNNDetector must be"),
        ("dagmm", {"dropout": 1.0}, "'dropout' parameter of DAGMMDetector must be"),
    ],
)
def test_bad_values_fail_at_fit_not_in_the_constructor(name, params, pattern, images):
    detector = make_baseline(name, **params)  # sklearn style: no validation before fit
    with pytest.raises(ConfigError, match=pattern):
        detector.fit(images[0][:20])


# ----------------------------------------------------------------------------------------------- the detector contract
@pytest.mark.parametrize("name", list(BASELINES))
def test_baselines_share_the_memae_detector_contract(name, tables, images):
    """The same base as MemAEDetector: fit(X, y=None, X_val=None), decision_scores_/threshold_/labels_ from the
    contamination quantile, decision_function higher = more anomalous, score_samples its negative (scikit-learn)."""
    from memae import MemAEDetector

    assert issubclass(BASELINES[name], BaseDetector) and issubclass(MemAEDetector, BaseDetector)
    train, test, _ = images if name == "pixelcnn" else tables
    train, test = train[:60], test[:30]
    params = dict(epochs=1, device="cpu") if "epochs" in BASELINES[name]().get_params() else {}
    detector = make_baseline(name, contamination=0.2, **params)
    assert is_outlier_detector(detector) and detector.get_params()["contamination"] == 0.2
    assert detector.fit(train, None, X_val=train[:10]) is detector
    np.testing.assert_allclose(detector.decision_scores_, detector.decision_function(train), rtol=1e-6, atol=1e-9)
    assert detector.threshold_ == np.percentile(detector.decision_scores_, 80)
    np.testing.assert_array_equal(detector.labels_, (detector.decision_scores_ > detector.threshold_).astype(int))
    scores = detector.decision_function(test)
    np.testing.assert_array_equal(detector.score_samples(test), -scores)
    np.testing.assert_array_equal(detector.predict(test), (scores > detector.threshold_).astype(int))
    proba = detector.predict_proba(test)
    assert proba.shape == (len(test), 2) and np.allclose(proba.sum(1), 1)
    np.testing.assert_array_equal(clone(detector).fit_predict(train), detector.labels_)


@pytest.mark.parametrize("contamination", [0.0, 0.7, "many"])
def test_bad_contamination_fails_at_fit(contamination, tables):
    with pytest.raises(ConfigError, match="'contamination' parameter of OneClassSVMDetector must be"):
        OneClassSVMDetector(contamination=contamination).fit(tables[0][:20])


# ----------------------------------------------------------------------------------------------- determinism, state
@pytest.mark.parametrize("name", ["vae", "dsebm", "pixelcnn", "dagmm"])
def test_deep_detectors_are_deterministic(name, images):
    train, test, _ = images
    params = dict(epochs=1, batch_size=32, device="cpu")
    first = make_baseline(name, random_state=3, **params).fit(train[:64]).decision_function(test)
    again = make_baseline(name, random_state=3, **params).fit(train[:64]).decision_function(test)
    other = make_baseline(name, random_state=4, **params).fit(train[:64]).decision_function(test)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("name", ["vae", "dagmm"])  # noise in the loss, dropout
def test_deep_detectors_leave_the_global_random_states_alone(name, images):
    import random

    train, test, _ = images
    random.seed(1), torch.manual_seed(3)
    expected = random.random(), torch.rand(1).item()
    random.seed(1), torch.manual_seed(3)
    make_baseline(name, random_state=3, epochs=1, batch_size=32, device="cpu").fit(train[:64]).decision_function(test)
    assert (random.random(), torch.rand(1).item()) == expected


def test_fitted_detector_survives_pickle(images):
    train, test, _ = images
    detector = VAEDetector(epochs=1, device="cpu").fit(train[:64])
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))


def test_validation_set_selects_the_best_epoch(tables):
    train, _, _ = tables
    detector = VAEDetector(epochs=4, lr=3e-3, model_options=SMALL_MLP, device="cpu").fit(train[:800], X_val=train[800:])
    assert [r["epoch"] for r in detector.history_] == [0, 1, 2, 3]
    val = [r["val_loss"] for r in detector.history_]
    assert detector.best_epoch_ == int(np.argmin(val))
    assert detector.history_[-1]["train_loss"] < detector.history_[0]["train_loss"]
    assert detector.architecture_ == "mlp" and detector.device_ == torch.device("cpu")



@pytest.mark.parametrize("name", ["vae", "dsebm", "pixelcnn", "dagmm"])
def test_deep_detectors_train_through_the_one_training_loop(name, images):
    """A deep baseline's fit is memae.training.train on its network: the same weights, epoch for epoch."""
    from memae.config import TrainConfig
    from memae.training import train

    train_x, val_x = images[0][:64], images[0][64:96]
    detector = make_baseline(name, random_state=5, epochs=2, batch_size=32, device="cpu").fit(train_x, X_val=val_x)
    torch.manual_seed(5)
    network = detector._build(train_x)
    result = train(network, train_x, val_x, TrainConfig(epochs=2, batch_size=32, lr=detector.lr, seed=5,
                                                        device="cpu", progress=False))
    assert detector.best_epoch_ == result.best_epoch
    assert [r["val_loss"] for r in detector.history_] == [r["val_loss"] for r in result.history]
    for key, value in network.state_dict().items():
        torch.testing.assert_close(detector.module_.state_dict()[key], value, rtol=0, atol=0)


def test_validation_errors_draw_no_noise_and_split_the_batch_loss(images):
    """sample_errors is deterministic in eval mode (VAE: z = mu; DSEBM: no corruption), and DAGMM's averages to its
    loss, so the epoch choice compares like with like."""
    x = torch.from_numpy(images[0][:32])
    for name in ("vae", "dsebm"):
        network = make_baseline(name, device="cpu")._build(images[0]).eval()
        torch.testing.assert_close(network.sample_errors(x), network.sample_errors(x), rtol=0, atol=0)
    dagmm = make_baseline("dagmm", device="cpu")._build(images[0]).eval()
    torch.testing.assert_close(dagmm.sample_errors(x).mean(), dagmm.loss(x))


def test_a_diverging_baseline_names_its_learning_rate(tables):
    with pytest.raises(ConfigError, match=r"VAEDetector: .*loss became .* lower lr \(now 1e\+30\)"):
        VAEDetector(epochs=1, lr=1e30, model_options=SMALL_MLP, device="cpu").fit(tables[0][:256] * 1e6)


# ----------------------------------------------------------------------------------------------- input checks
def test_pixelcnn_refuses_tables(tables):
    with pytest.raises(ConfigError, match="models images"):
        PixelCNNDetector(epochs=1, device="cpu").fit(tables[0])


def test_pixelcnn_needs_unit_range_images(images):
    with pytest.raises(DataError, match=r"scaled to \[0, 1\].*divide uint8 images by 255"):
        PixelCNNDetector(epochs=1, device="cpu").fit(images[0] * 255)


@pytest.mark.parametrize("method", ["decision_function", "score_samples", "predict", "predict_proba"])
def test_score_before_fit_is_refused(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(OneClassSVMDetector(), method)(np.zeros((3, 4), np.float32))


def test_input_shape_errors(tables, images):
    detector = OneClassSVMDetector().fit(tables[0])
    with pytest.raises(DataError, match=r"per-sample shape \(9,\) differs from the training data's \(10,\)"):
        detector.decision_function(tables[1][:, :9])
    bad = tables[1].copy()
    bad[5, 2] = np.nan
    with pytest.raises(DataError, match="1 sample\\(s\\) contain NaN or inf"):
        detector.decision_function(bad)
    with pytest.raises(DataError, match="need a channel axis"):
        OneClassSVMDetector().fit(images[0][:, 0])
    assert detector.decision_function(tables[1][:0]).shape == (0,)


def test_architecture_must_match_the_data(tables, images):
    with pytest.raises(ConfigError, match="is for images"):
        VAEDetector(architecture="mnist", device="cpu").fit(tables[0][:50])
    with pytest.raises(ConfigError, match="is for table rows"):
        DSEBMDetector(architecture="kdd", device="cpu").fit(images[0][:50])
    with pytest.raises(UnknownNameError, match="choose auto or one of"):
        DAGMMDetector(architecture="resnet", device="cpu").fit(tables[0][:50])


# ----------------------------------------------------------------------------------------------- pieces
def test_classic_subsampling_pca_and_bandwidth(tables):
    train, test, _ = tables
    svm = OneClassSVMDetector(max_train=300, pca_components=5).fit(train)
    assert svm.n_train_seen_ == 1000 and svm.pca_.n_components_ == 5
    assert svm.svm_.support_vectors_.shape[1] == 5 and len(svm.svm_.support_vectors_) <= 300
    kde = KDEDetector(max_train=500).fit(train)
    assert vars(kde)["_kde"] is None  # fit builds no KernelDensity tree: scores are brute force on train_
    assert kde.kde_.n_features_in_ == 10 and np.asarray(kde.kde_.tree_.data).shape == (500, 10)
    ratios = kde.bandwidth_candidates_ / kde.bandwidth_candidates_[2]
    np.testing.assert_allclose(ratios, [0.25, 0.5, 1.0, 2.0, 4.0])
    assert kde.bandwidth_ in kde.bandwidth_candidates_
    assert kde.cv_results_["mean_test_score"].argmax() == list(kde.bandwidth_candidates_).index(kde.bandwidth_)
    # the brute-force scores equal sklearn's tree-based KernelDensity
    np.testing.assert_allclose(kde.decision_function(train[:20]), -kde.kde_.score_samples(train[:20]), rtol=1e-6)
    np.testing.assert_allclose(kde.score_samples(train[:20]), kde.kde_.score_samples(train[:20]), rtol=1e-6)  # sklearn's sign
    fixed = KDEDetector(bandwidths=0.3).fit(train)
    assert fixed.bandwidth_ == 0.3 and fixed.cv_results_ is None


def test_gmm_estimates_and_energy_match_scipy():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(200, 3, generator=gen, dtype=torch.float64)
    gamma = torch.softmax(torch.randn(200, 2, generator=gen, dtype=torch.float64), dim=1)
    gmm = gmm_from_assignments(z, gamma)
    weights = gamma[:, 0].numpy()
    np.testing.assert_allclose(gmm.phi.numpy(), gamma.mean(0).numpy())
    np.testing.assert_allclose(gmm.mu[0].numpy(), np.average(z.numpy(), axis=0, weights=weights))
    np.testing.assert_allclose(gmm.cov[0].numpy(), np.cov(z.numpy().T, aweights=weights, bias=True), atol=1e-12)
    density = sum(
        gmm.phi[k].item() * multivariate_normal(gmm.mu[k].numpy(), gmm.cov[k].numpy()).pdf(z.numpy()) for k in range(2)
    )
    np.testing.assert_allclose(gmm_energy(z, gmm, jitter=1e-12).numpy(), -np.log(density), rtol=1e-8)


def test_gmm_energy_survives_a_singular_covariance():
    mu = torch.zeros(1, 2, dtype=torch.float64)
    singular = GMM(torch.ones(1, dtype=torch.float64), mu, torch.tensor([[[1.0, 1.0], [1.0, 1.0]]], dtype=torch.float64))
    energy = gmm_energy(torch.tensor([[0.5, 0.5], [0.5, -0.5]], dtype=torch.float64), singular, jitter=1e-12)
    assert torch.isfinite(energy).all() and energy[1] > energy[0] + 100  # off the degenerate line: far less likely


def test_pixelcnn_is_autoregressive():
    """The logits at pixel (i, j) depend on pixels before (i, j) in raster order only, for every channel."""
    torch.manual_seed(0)
    model = PixelCNN(in_channels=3, hidden=8, n_layers=3).eval()
    x = torch.rand(1, 3, 6, 6, requires_grad=True)
    i, j = 3, 2
    model(x)[0, :, :, i, j].sum().backward()
    seen = x.grad[0].abs().sum(0) > 0  # (H, W)
    order = torch.arange(36).view(6, 6)
    assert not seen[order >= order[i, j]].any()  # the pixel itself and everything after it: no influence
    assert seen[order < order[i, j]].any()


# --------------------------------------------------------------------------------- raw vs PCA, the pca baseline
def _one_class_images(seed: int = 0):
    """Normals: smooth blobs in the top half; anomalies: the same plus a bright patch in the bottom half."""
    rng = np.random.default_rng(seed)
    def blobs(n):
        x = np.zeros((n, 1, 8, 8), np.float32)
        x[:, 0, :4, :] = rng.random((n, 1, 1)) * np.linspace(0, 1, 8)[None, None, :] + 0.05 * rng.random((n, 4, 8))
        return x
    normal, anomalies = blobs(200), blobs(30)
    anomalies[:, 0, 5:7, 2:6] += 0.5 + 0.2 * rng.random((30, 2, 4))
    test = np.concatenate([blobs(60), anomalies])
    return normal, test, np.r_[np.zeros(60), np.ones(30)]


def test_pca_reconstruction_error_finds_what_the_normal_subspace_misses():
    train, test, labels = _one_class_images()
    detector = PCADetector(n_components=0.9).fit(train)
    assert 1 <= detector.n_components_ < 64
    assert roc_auc_score(labels, detector.decision_function(test)) > 0.95
    assert PCADetector(n_components=3).fit(train).n_components_ == 3
    with pytest.raises(ConfigError, match="'n_components' parameter of PCADetector must be"):
        PCADetector(n_components=1.5).fit(train)


def test_ocsvm_and_kde_run_on_raw_inputs_by_default_and_pca_stays_an_option():
    train, test, _ = _one_class_images()
    for cls in (OneClassSVMDetector, KDEDetector):
        assert cls().get_params()["pca_components"] is None
        raw = cls().fit(train)
        assert raw.pca_ is None
        reduced = cls(pca_components=5).fit(train)
        assert reduced.pca_.n_components_ == 5
        assert not np.allclose(raw.decision_function(test), reduced.decision_function(test))


def test_table_baseline_settings_come_from_yaml_and_use_raw_pixels():
    from memae.experiments import table1, table3
    from memae.experiments.runner import load_baseline_params

    for method in ("ocsvm", "kde"):
        assert "pca_components" not in load_baseline_params(table1.BASELINES_CONFIG, method)
    assert load_baseline_params(table1.BASELINES_CONFIG, "pca") == {"n_components": 0.9}
    assert load_baseline_params(table3.BASELINES_CONFIG, "dagmm")["epochs"] == 10
    with pytest.raises(ConfigError, match="has no settings for baseline 'nope'"):
        load_baseline_params(table1.BASELINES_CONFIG, "nope")


@pytest.mark.slow
def test_baselines_keep_the_contract_without_pyod():
    """With PyOD hidden, the baselines fall back to the stand-in base, as MemAEDetector does."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys
sys.modules["pyod"] = None  # import pyod -> ImportError
import numpy as np
from sklearn.base import is_outlier_detector
from memae.baselines import PCADetector
from memae.detector_base import HAVE_PYOD, BaseDetector
assert not HAVE_PYOD and issubclass(PCADetector, BaseDetector)
X = np.random.default_rng(0).normal(size=(80, 4)).astype(np.float32)
det = PCADetector(n_components=2, contamination=0.25).fit(X)
assert is_outlier_detector(det) and det.labels_.sum() == 20
assert (det.fit_predict(X) == det.predict(X)).all() and det.predict_proba(X, "unify").shape == (80, 2)
print("ok")
"""
    src = Path(__file__).resolve().parents[1] / "src"
    env = {"PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
