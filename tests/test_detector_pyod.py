"""MemAEDetector as a PyOD ``BaseDetector``: every public method with PyOD's documented semantics.

Written from PyOD's documentation (``pyod.models.base.BaseDetector``) and observed behaviour.  The PyOD-only
checks skip cleanly when PyOD is not installed; the stand-in base (``memae.detector_base._PyODStandIn``) is compared
output for output with PyOD's own class, and a subprocess checks MemAEDetector with PyOD hidden.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.special import erf
import pytest
import torch
from sklearn.base import is_outlier_detector
from sklearn.metrics import roc_auc_score

from memae.detector import MemAEDetector
from memae.errors import ConfigError
from memae.detector_base import HAVE_PYOD, _PyODStandIn as StandInBase

FAST = dict(epochs=3, batch_size=64, device="cpu", random_state=0)
needs_pyod = pytest.mark.skipif(not HAVE_PYOD, reason="PyOD is not installed (pip install memae[pyod])")


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """190 rows near a 2-D plane in 6-D plus 10 rows off it; y = 1 for those."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=(190, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(190, 6))
    X = np.vstack([normal, 3 * rng.normal(size=(10, 6))])
    return X, np.r_[np.zeros(190), np.ones(10)].astype(int)


class TopShare:
    """A PyThresh-style thresholder: ``fit(scores)`` labels the top ``share`` and sets ``thresh_``;
    ``predict(scores)`` applies the fitted threshold."""

    def __init__(self, share: float = 0.05) -> None:
        self.share = share

    def fit(self, scores: np.ndarray) -> TopShare:
        self.thresh_ = float(np.quantile(scores, 1 - self.share))
        self.labels_ = (np.asarray(scores) > self.thresh_).astype(int)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return (np.asarray(scores) > self.thresh_).astype(int)


@pytest.fixture(scope="module")
def fitted():
    X, y = data()
    return X, y, MemAEDetector(**FAST).fit(X)


# -- identity: what other libraries check -----------------------------------------------------------------------


def test_is_an_outlier_detector_for_sklearn():
    assert is_outlier_detector(MemAEDetector())


@needs_pyod
def test_is_a_pyod_base_detector():
    from pyod.models.base import BaseDetector

    assert isinstance(MemAEDetector(), BaseDetector)


@needs_pyod
def test_pyod_embedding_pipeline_accepts_it():
    """EmbeddingOD refuses detectors that are not BaseDetector instances; with a callable encoder it runs offline."""
    from pyod.models.embedding import EmbeddingOD

    X, y = data()
    pipe = EmbeddingOD(encoder=lambda rows: np.asarray(rows, dtype=float), detector=MemAEDetector(**FAST))
    pipe.fit(list(X))
    scores = pipe.decision_function(list(X))
    assert scores.shape == (len(X),) and roc_auc_score(y, scores) > 0.8


def test_model_attribute(fitted):
    _, _, det = fitted
    assert MemAEDetector().model is None
    assert isinstance(det.model, torch.nn.Module) and det.model is det.model_


# -- predict / predict_proba / confidence ----------------------------------------------------------------------


def test_predict_with_confidence(fitted):
    X, _, det = fitted
    labels, confidence = det.predict(X, return_confidence=True)
    np.testing.assert_array_equal(labels, det.predict(X))
    np.testing.assert_array_equal(labels, (det.decision_function(X) > det.threshold_).astype(int))
    assert confidence.shape == (len(X),) and np.all((confidence >= 0) & (confidence <= 1))
    np.testing.assert_allclose(confidence, det.predict_confidence(X))


def test_confidence_is_high_far_from_the_threshold(fitted):
    X, _, det = fitted
    scores = det.decision_function(X)
    far_low, far_high = np.argmin(scores), np.argmax(scores)
    confidence = det.predict_confidence(X)
    assert confidence[far_low] > 0.99 and confidence[far_high] > 0.99
    near = np.argmin(np.abs(scores - det.threshold_))
    assert confidence[near] < confidence[far_low]


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_predict_proba_with_confidence(fitted, method):
    X, _, det = fitted
    proba, confidence = det.predict_proba(X, method=method, return_confidence=True)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    assert confidence.shape == (len(X),) and np.all((confidence >= 0) & (confidence <= 1))
    scores, train = det.decision_function(X), det.decision_scores_
    if method == "linear":  # min-max over the training scores
        expected = np.clip((scores - train.min()) / (train.max() - train.min()), 0, 1)
    else:  # Kriegel et al.'s unification with the training scores' mean and std
        expected = np.clip(erf((scores - train.mean()) / (train.std() * np.sqrt(2))), 0, 1)
    np.testing.assert_allclose(proba[:, 1], expected, atol=1e-12)


def test_predict_proba_accepts_lists(fitted):
    X, _, det = fitted
    np.testing.assert_allclose(det.predict_proba(X[:4].tolist()), det.predict_proba(X[:4]))


def test_predict_proba_unknown_method_is_a_value_error(fitted):
    X, _, det = fitted
    with pytest.raises(ValueError, match="'softmax'"):
        det.predict_proba(X, method="softmax")


# -- rejection option ------------------------------------------------------------------------------------------


def test_predict_with_rejection(fitted):
    X, _, det = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # c_r=-1 (the default) warns that it becomes the contamination
        strict = det.predict_with_rejection(X, T=32)
        loose, stats = det.predict_with_rejection(X, T=2, return_stats=True)
    assert set(np.unique(strict)) <= {-2, 0, 1} and set(np.unique(loose)) <= {-2, 0, 1}
    assert (strict == -2).sum() >= (loose == -2).sum()  # a higher T rejects more
    kept = strict != -2
    np.testing.assert_array_equal(strict[kept], det.predict(X)[kept])
    assert det.rejection_threshold_ == pytest.approx(1 - 2 * np.exp(-2))
    assert len(stats) == 3 and all(np.isfinite(stats))


def test_compute_rejection_stats(fitted):
    _, _, det = fitted
    expected, upper, cost = det.compute_rejection_stats(T=8, delta=0.1, c_fp=1, c_fn=1, c_r=0.1)
    assert 0 <= expected <= 1 and upper >= expected and cost > 0
    assert det.compute_rejection_stats(T=32)[0] >= expected  # a higher T rejects more


# -- fitting variants ------------------------------------------------------------------------------------------


def test_fit_predict_score():
    X, y = data()
    det = MemAEDetector(**FAST)
    with pytest.warns(FutureWarning):  # deprecated in PyOD, still public
        auc = det.fit_predict_score(X, y)
        precision = MemAEDetector(**FAST).fit_predict_score(X, y, scoring="prc_n_score")
    assert auc == pytest.approx(roc_auc_score(y, det.decision_scores_))
    assert 0 <= precision <= 1
    with pytest.raises(NotImplementedError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MemAEDetector(**FAST).fit_predict_score(X, y, scoring="f1")


def test_thresholder_contamination(tmp_path):
    X, _ = data()
    thresholder = TopShare(0.05)
    det = MemAEDetector(contamination=thresholder, **FAST).fit(X)
    np.testing.assert_array_equal(det.labels_, thresholder.labels_)
    assert det.labels_.sum() == 10 and det.threshold_ == thresholder.thresh_
    np.testing.assert_array_equal(det.predict(X), thresholder.predict(det.decision_function(X)))
    assert det.predict_confidence(X).shape == (len(X),)
    with pytest.raises(ConfigError, match="float contamination"):
        det.save(tmp_path / "det.pt")


def test_bad_contamination_object():
    with pytest.raises(ValueError, match="contamination"):
        MemAEDetector(contamination="half", **FAST).fit(data()[0])


# -- the stand-in base: the same numbers as PyOD's own class ---------------------------------------------------


def toy_detector(base: type, contamination=0.1):
    """A minimal detector on ``base``: the score is the distance to the training mean."""

    class Toy(base):
        def __init__(self, contamination=0.1):
            self.contamination = contamination

        def fit(self, X, y=None):
            X = np.asarray(X, dtype=float)
            self.mean_ = X.mean(axis=0)
            self.decision_scores_ = self.decision_function(X)
            self._set_n_classes(y)
            self._process_decision_scores()
            return self

        def decision_function(self, X):
            return np.linalg.norm(np.asarray(X, dtype=float) - self.mean_, axis=1)

    return Toy(contamination)


def standin_outputs(det, X, y, rejection: bool = True) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "auc": det.fit_predict_score(X, y),
            "prc": det.fit_predict_score(X, y, scoring="prc_n_score"),
            "threshold": det.threshold_,
            "labels": det.labels_,
            "predict": det.predict(X, return_confidence=True),
            "linear": det.predict_proba(X, "linear", return_confidence=True),
            "unify": det.predict_proba(X, "unify"),
            "rank": det._predict_rank(X, normalized=True),
        }
        if rejection:  # PyOD's rejection statistics need a float contamination
            prediction, stats = det.predict_with_rejection(X, T=3, return_stats=True, c_r=0.2)
            out["reject"] = [prediction, *stats]
            out["stats"] = det.compute_rejection_stats(T=5, delta=0.05)
        return out


def flat(value) -> np.ndarray:
    if isinstance(value, (tuple, list)):
        return np.concatenate([flat(v) for v in value])
    return np.atleast_1d(np.asarray(value, dtype=float)).ravel()


@needs_pyod
@pytest.mark.parametrize("contamination", [0.1, "thresholder"])
def test_standin_matches_pyod(contamination, capsys):
    from pyod.models.base import BaseDetector

    X, y = data(1)
    make = (lambda: TopShare(0.07)) if contamination == "thresholder" else (lambda: 0.1)
    rejection = contamination != "thresholder"
    ours = standin_outputs(toy_detector(StandInBase, make()), X, y, rejection)
    theirs = standin_outputs(toy_detector(BaseDetector, make()), X, y, rejection)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(flat(ours[key]), flat(theirs[key]), rtol=1e-10, err_msg=key)
    capsys.readouterr()


def test_standin_semantics_without_pyod():
    X, y = data(2)
    det = toy_detector(StandInBase)
    outputs = standin_outputs(det, X, y)
    assert outputs["auc"] > 0.9 and is_outlier_detector(det)
    with pytest.raises(ValueError):
        det.predict_proba(X, "softmax")


@pytest.mark.slow
def test_without_pyod_installed():
    """With PyOD hidden, MemAEDetector falls back to the stand-in base and keeps the whole API."""
    script = """
import sys, warnings
sys.modules["pyod"] = None  # import pyod -> ImportError
import numpy as np
from sklearn.base import is_outlier_detector
from memae.detector import MemAEDetector
from memae.detector_base import HAVE_PYOD, BaseDetector
assert not HAVE_PYOD and issubclass(MemAEDetector, BaseDetector)
X = np.random.default_rng(0).normal(size=(80, 4))
det = MemAEDetector(epochs=1, device="cpu", random_state=0).fit(X)
labels, conf = det.predict(X, return_confidence=True)
proba, conf2 = det.predict_proba(X, "unify", return_confidence=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    rejected = det.predict_with_rejection(X)
assert is_outlier_detector(det) and labels.shape == conf.shape == (80,) and proba.shape == (80, 2)
assert len(det.compute_rejection_stats()) == 3 and det.model is det.model_
print("ok")
"""
    src = Path(__file__).resolve().parents[1] / "src"
    env = {"PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
