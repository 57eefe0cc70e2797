"""The paper's baseline detectors (OC-SVM, KDE, VAE, DSEBM, PixelCNN, DAGMM) and PCA reconstruction error as scikit-learn style estimators.

Each shares :class:`memae.MemAEDetector`'s scikit-learn + PyOD contract (see :mod:`memae.baselines.base`):
``fit(X, y=None, X_val=None)`` on normal data only, ``decision_function(X)`` (float64, higher = more anomalous),
``decision_scores_`` / ``threshold_`` / ``labels_``, ``predict`` / ``predict_proba`` / ``fit_predict``, and
``score_samples(X)`` as in scikit-learn (higher = more normal).  :func:`make_baseline` builds one by name.

May import: detector_base (the one detector base), models, training, scoring, data, config, errors and io; never
detector, experiments, cli or the package
root.
"""

from .base import BaseDetector, BaselineDetector, DeepDetector
from .classic import KDEDetector, OneClassSVMDetector, PCADetector
from .dagmm import DAGMMDetector
from .dsebm import DSEBMDetector
from .pixelcnn import PixelCNNDetector
from .registry import BASELINES, list_baselines, make_baseline
from .vae import VAEDetector

__all__ = [
    "BASELINES", "make_baseline", "list_baselines", "BaseDetector", "BaselineDetector", "DeepDetector",
    "OneClassSVMDetector", "KDEDetector", "PCADetector", "VAEDetector", "DSEBMDetector", "PixelCNNDetector", "DAGMMDetector",
]
