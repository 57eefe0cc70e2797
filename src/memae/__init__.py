"""memae: memory-augmented autoencoders (MemAE, Gong et al. ICCV 2019) for unsupervised anomaly detection."""

from .errors import CheckpointError, ConfigError, DataError, MemAEError, UnknownNameError
from .functional import addressing_stats, entropy_loss, hard_shrink_relu
from .memory import MemoryModule, MemoryOutput
from .models import MemAE, MemAEOutput, build_model, list_architectures, list_variants
from .detector import MemAEDetector

__version__ = "0.1.0"

__all__ = [
    "MemoryModule", "MemoryOutput", "MemAEDetector", "MemAE", "MemAEOutput", "build_model", "list_architectures", "list_variants",
    "entropy_loss", "hard_shrink_relu", "addressing_stats",
    "MemAEError", "ConfigError", "DataError", "UnknownNameError", "CheckpointError",
]
