"""Models: the MemAE wrapper, the paper's encoders/decoders and the registry of architectures and variants.

May import: memory, functional, errors and torch; never data, training, scoring or anything above them.
"""

from .memae import DEFAULT_ENTROPY_WEIGHT, LossBreakdown, MemAE, MemAEOutput
from .registry import ARCHITECTURES, VARIANTS, Architecture, build_model, list_architectures, list_variants

__all__ = [
    "MemAE", "MemAEOutput", "LossBreakdown", "DEFAULT_ENTROPY_WEIGHT",
    "Architecture", "ARCHITECTURES", "VARIANTS", "build_model", "list_architectures", "list_variants",
]
