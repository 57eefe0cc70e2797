"""Training: the loop, checkpoints and multi-process plumbing.

May import: config, console, models, memory, functional, io, errors, version; never data, scoring, experiments,
detector, baselines, cli or the package root (``lint-imports`` checks the layers; see ``pyproject.toml``).
"""

from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .distributed import DistInfo, init_distributed, resolve_device
from .trainer import TrainConfig, TrainResult, drawing_from, seeded_generator, train

__all__ = [
    "TrainConfig", "TrainResult", "train", "drawing_from", "seeded_generator",
    "save_checkpoint", "load_checkpoint", "load_model", "DistInfo", "init_distributed", "resolve_device",
]
