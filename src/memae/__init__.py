"""memae: memory-augmented autoencoders (MemAE, Gong et al. ICCV 2019) for unsupervised anomaly detection.

The public names below are imported on first use (PEP 562), so ``import memae`` and ``memae --help`` load neither
torch nor scikit-learn; ``memae.MemoryModule`` and ``from memae import build_model`` work as usual.

This package root is the public facade: nothing inside ``memae`` imports it (the import-linter contracts in
``pyproject.toml`` check that).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from .version import __version__

# public name -> module that defines it (relative to this package)
_EXPORTS = {
    "MemoryModule": ".memory", "MemoryOutput": ".memory",
    "MemAEDetector": ".detector",
    "MemAE": ".models", "MemAEOutput": ".models", "build_model": ".models", "list_architectures": ".models",
    "list_variants": ".models",
    "entropy_loss": ".functional", "hard_shrink_relu": ".functional", "addressing_stats": ".functional",
    "TrainConfig": ".training", "TrainResult": ".training", "train": ".training", "save_checkpoint": ".training",
    "load_checkpoint": ".training", "load_model": ".training",
    "reconstruction_errors": ".scoring.reconstruction",
    "roc_auc": ".scoring.metrics", "average_precision": ".scoring.metrics", "threshold_metrics": ".scoring.metrics",
    "top_fraction_threshold": ".scoring.metrics", "detection_report": ".scoring.metrics",
    "MemAEError": ".errors", "ConfigError": ".errors", "DataError": ".errors", "UnknownNameError": ".errors",
    "CheckpointError": ".errors",
}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names come from __getattr__
    from .detector import MemAEDetector
    from .errors import CheckpointError, ConfigError, DataError, MemAEError, UnknownNameError
    from .functional import addressing_stats, entropy_loss, hard_shrink_relu
    from .memory import MemoryModule, MemoryOutput
    from .models import MemAE, MemAEOutput, build_model, list_architectures, list_variants
    from .scoring.metrics import (average_precision, detection_report, roc_auc, threshold_metrics,
                                  top_fraction_threshold)
    from .scoring.reconstruction import reconstruction_errors
    from .training import TrainConfig, TrainResult, load_checkpoint, load_model, save_checkpoint, train


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:  # a sub-module (``memae.training``, ``memae.scoring``), as the eager package had them
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
