"""Training: the loop, checkpoints and multi-process plumbing."""

from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .distributed import DistInfo, init_distributed, resolve_device
from .trainer import TrainConfig, TrainResult, seed_everything, train

__all__ = [
    "TrainConfig", "TrainResult", "train", "seed_everything",
    "save_checkpoint", "load_checkpoint", "load_model", "DistInfo", "init_distributed", "resolve_device",
]
