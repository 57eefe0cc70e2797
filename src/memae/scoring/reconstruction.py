"""Per-sample anomaly scores from a trained model: the reconstruction error (the paper's criterion)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from ..training.distributed import DistInfo, shard_indices
from ..training.trainer import _first, as_dataset

__all__ = ["reconstruction_errors", "ERRORS"]

ERRORS = ("mse", "mae")  # paper: squared error; authors' video code: mean absolute error


def _per_sample(reconstruction: Tensor, x: Tensor, error: str) -> Tensor:
    diff = reconstruction - x
    per_element = diff.pow(2) if error == "mse" else diff.abs()
    return per_element.flatten(1).mean(1)


@torch.no_grad()
def reconstruction_errors(
    model: nn.Module,
    data: Dataset | Tensor | np.ndarray,
    *,
    error: str = "mse",
    batch_size: int = 256,
    device: str | torch.device | None = None,
    dist_info: DistInfo | None = None,
) -> np.ndarray:
    """Mean squared (``"mse"``) or absolute (``"mae"``) reconstruction error of every sample; higher = more anomalous.

    Args:
        data: samples ``(B, *input_shape)`` (tensor/array) or a Dataset whose items are ``x`` or ``(x, ...)``.
        dist_info: under DDP, each process scores its own shard and the scores are gathered in order, so no
            sample is scored twice.

    Returns:
        ``(len(data),)`` float64 array.
    """
    if error not in ERRORS:
        raise ValueError(f"error must be one of {ERRORS}, got {error!r}")
    dataset = as_dataset(data)
    if device is None:
        device = next(model.parameters()).device
    model.eval().to(device)
    info = dist_info or DistInfo()
    indices = shard_indices(len(dataset), info)
    scores = []
    for batch in DataLoader(Subset(dataset, indices), batch_size, shuffle=False):
        x = _first(batch).to(device)
        scores.append(_per_sample(model(x)[0], x, error).double().cpu())
    local = torch.cat(scores).numpy() if scores else np.zeros(0)
    if not info.enabled:
        return local
    import torch.distributed as dist

    gathered: list = [None] * info.world_size
    dist.all_gather_object(gathered, (indices, local))
    out = np.empty(len(dataset))
    for idx, values in gathered:
        out[idx] = values
    return out
