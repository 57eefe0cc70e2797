"""The paper's baseline detectors (OC-SVM, KDE, VAE, DSEBM, PixelCNN, DAGMM) and PCA reconstruction error as scikit-learn style estimators.

Each has ``fit(X, X_val=None)`` on normal data only and ``score_samples(X)`` (float64, higher = more anomalous);
:func:`make_baseline` builds one by name.

May import: models, training, scoring, data, config, errors and io; never detector, experiments, cli or the package
root.
"""

from .base import BaseDetector, DeepDetector
from .classic import KDEDetector, OneClassSVMDetector, PCADetector
from .dagmm import DAGMMDetector
from .dsebm import DSEBMDetector
from .pixelcnn import PixelCNNDetector
from .registry import BASELINES, list_baselines, make_baseline
from .vae import VAEDetector

__all__ = [
    "BASELINES", "make_baseline", "list_baselines", "BaseDetector", "DeepDetector",
    "OneClassSVMDetector", "KDEDetector", "PCADetector", "VAEDetector", "DSEBMDetector", "PixelCNNDetector", "DAGMMDetector",
]
