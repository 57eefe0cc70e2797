"""Per-sample anomaly scores from a trained model: the reconstruction error (the paper's criterion)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from ..config import SCORE_ERRORS
from ..functional import reconstruction_error
from ..training.distributed import DistInfo, shard_indices
from ..training.trainer import as_dataset

__all__ = ["reconstruction_errors", "memory_distances", "combined_scores", "ERRORS"]

ERRORS = SCORE_ERRORS  # paper: squared error; authors' video code: mean absolute error (named in the config)


def _inputs(batch):  # a DataLoader batch of a (x, y) dataset is a pair; scoring needs x only
    return batch[0] if isinstance(batch, (tuple, list)) else batch


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
    # A loader without a generator draws its workers' base seed from the global stream: scoring leaves that alone.
    for batch in DataLoader(Subset(dataset, indices), batch_size, shuffle=False, generator=torch.Generator()):
        x = _inputs(batch).to(device)
        scores.append(reconstruction_error(model(x)[0], x, error).double().cpu())
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


@torch.no_grad()
def memory_distances(model: nn.Module, data: Dataset | Tensor | np.ndarray, *, batch_size: int = 256,
                     device: str | torch.device | None = None) -> np.ndarray:
    """How far each sample's queries lie from the memory: mean over queries of ``min_i ||z - m_i||^2``.

    The paper leaves scoring with the addressing as future work; this is the distance part of memae's
    ``"memory"`` score (see :func:`combined_scores`).  Needs a model with a memory.
    """
    if getattr(model, "memory", None) is None:
        raise ValueError("memory_distances needs a model with a memory (not the plain AE)")
    dataset = as_dataset(data)
    device = device or next(model.parameters()).device
    model.eval().to(device)
    memory = model.memory.memory  # (N, C)
    out = []
    for batch in DataLoader(dataset, batch_size, shuffle=False, generator=torch.Generator()):  # global stream untouched
        z = model.encode(_inputs(batch).to(device))
        queries = z.flatten(1) if model.flatten_latent else z.movedim(1, -1)
        queries = queries.reshape(z.shape[0], -1, memory.shape[1])  # (B, Q, C): Q = 1 or one per position
        nearest = torch.cdist(queries, memory.unsqueeze(0).expand(z.shape[0], -1, -1)).amin(dim=2) ** 2  # (B, Q)
        out.append(nearest.mean(dim=1).double().cpu())
    return torch.cat(out).numpy()


def combined_scores(rec: np.ndarray, dist: np.ndarray, rec_ref: np.ndarray, dist_ref: np.ndarray) -> np.ndarray:
    """``rec / median(rec_ref) + dist / median(dist_ref)``: both parts scaled by their median on validation
    *normals* (never test labels) so that neither dominates by its units."""
    eps = 1e-12
    return rec / (np.median(rec_ref) + eps) + dist / (np.median(dist_ref) + eps)
