"""The baselines of the paper's Tables 1 and 3, by name.

>>> detector = make_baseline("ocsvm", nu=0.05)
>>> detector.get_params()["nu"]
0.05
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import ConfigError, UnknownNameError
from ..detector_base import BaseDetector
from .classic import KDEDetector, OneClassSVMDetector, PCADetector
from .dagmm import DAGMMDetector
from .dsebm import DSEBMDetector
from .pixelcnn import PixelCNNDetector
from .vae import VAEDetector

__all__ = ["BASELINES", "make_baseline", "list_baselines", "BaseDetector"]

BASELINES: dict[str, type[BaseDetector]] = {
    "ocsvm": OneClassSVMDetector,
    "kde": KDEDetector,
    "pca": PCADetector,
    "vae": VAEDetector,
    "dsebm": DSEBMDetector,
    "pixelcnn": PixelCNNDetector,
    "dagmm": DAGMMDetector,
}


def list_baselines() -> list[str]:
    return list(BASELINES)


def make_baseline(name: str, **params: Any) -> BaseDetector:
    """An unfitted detector ``name`` with hyper-parameters ``params``.

    Raises:
        UnknownNameError: ``name`` is not one of :data:`BASELINES`.
        ConfigError: a parameter the detector does not have.
    """
    if name not in BASELINES:
        raise UnknownNameError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    cls = BASELINES[name]
    # the constructor's parameters (PyOD's BaseDetector makes _get_param_names an instance method)
    valid = sorted(name for name in inspect.signature(cls.__init__).parameters if name != "self")
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for baseline {name!r}; valid options are {', '.join(valid)}")
    return cls(**params)
