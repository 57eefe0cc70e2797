"""Models: the MemAE wrapper, the paper's encoders/decoders and the registry of architectures and variants.

May import: memory, functional, errors, config (the typed model options) and torch; never data, training, scoring or
anything above them.
"""

from .memae import DEFAULT_ENTROPY_WEIGHT, LossBreakdown, MemAE, MemAEOutput
from .registry import (
    ARCHITECTURES,
    VARIANTS,
    Architecture,
    build_model,
    check_model_section,
    list_architectures,
    list_variants,
    option_defaults,
)

__all__ = [
    "MemAE", "MemAEOutput", "LossBreakdown", "DEFAULT_ENTROPY_WEIGHT",
    "Architecture", "ARCHITECTURES", "VARIANTS", "build_model", "check_model_section", "option_defaults",
    "list_architectures", "list_variants",
]
