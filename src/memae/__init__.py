"""memae: memory-augmented autoencoders (MemAE, Gong et al. ICCV 2019) for unsupervised anomaly detection."""

from .errors import CheckpointError, ConfigError, DataError, MemAEError, UnknownNameError
from .functional import addressing_stats, entropy_loss, hard_shrink_relu
from .memory import MemoryModule, MemoryOutput
from .models import MemAE, MemAEOutput, build_model, list_architectures, list_variants
from .detector import MemAEDetector
from .scoring.metrics import average_precision, detection_report, roc_auc, threshold_metrics, top_fraction_threshold
from .scoring.reconstruction import reconstruction_errors
from .training import TrainConfig, TrainResult, load_checkpoint, load_model, save_checkpoint, train

__version__ = "0.1.0"

__all__ = [
    "MemoryModule", "MemoryOutput", "MemAEDetector", "MemAE", "MemAEOutput", "build_model", "list_architectures", "list_variants",
    "entropy_loss", "hard_shrink_relu", "addressing_stats",
    "TrainConfig", "TrainResult", "train", "save_checkpoint", "load_checkpoint", "load_model",
    "reconstruction_errors", "roc_auc", "average_precision", "threshold_metrics", "top_fraction_threshold",
    "detection_report",
    "MemAEError", "ConfigError", "DataError", "UnknownNameError", "CheckpointError",
]
