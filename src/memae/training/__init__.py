"""Training: the loop, checkpoints and multi-process plumbing.

May import: models, memory, functional, io, errors, version; never data, scoring, experiments, detector,
baselines, cli or the package root (``lint-imports`` checks the layers; see ``pyproject.toml``).
"""

from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .distributed import DistInfo, init_distributed, resolve_device
from .trainer import TrainConfig, TrainResult, seed_everything, train

__all__ = [
    "TrainConfig", "TrainResult", "train", "seed_everything",
    "save_checkpoint", "load_checkpoint", "load_model", "DistInfo", "init_distributed", "resolve_device",
]
