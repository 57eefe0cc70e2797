"""Device selection and multi-process (DDP) plumbing, in one place.

``torchrun --nproc-per-node=K memae train ...`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; the same command
without torchrun runs in a single process.  Backend: NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import ConfigError

__all__ = ["DistInfo", "init_distributed", "ensure_process_group", "resolve_device", "all_reduce_sum", "shard_indices"]


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def resolve_device(device: str | torch.device | None = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``/None: CUDA when present (this process's local GPU under DDP), else CPU."""
    if device in (None, "auto"):
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for but CUDA is not available here; use --device cpu or auto")
    return resolved


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group that torchrun describes in the environment; a no-op for a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    ensure_process_group(device)
    return DistInfo(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))


def ensure_process_group(device: torch.device) -> None:
    """Under torchrun, join the process group early (NCCL on CUDA, gloo on CPU); a no-op for one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def all_reduce_sum(values: list[float], info: DistInfo) -> list[float]:
    """Sum a few floats over all processes (identity for one process)."""
    if not info.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def shard_indices(n: int, info: DistInfo) -> list[int]:
    """This process's share of ``range(n)``, without the padding DistributedSampler adds (no sample twice)."""
    return list(range(info.rank, n, info.world_size))
