"""Stateless math of the memory module (paper section 3.3) and the reconstruction error every part scores and
validates with, in the style of ``torch.nn.functional``.

Every function works on a batch of queries ``(Q, C)``; :class:`memae.MemoryModule` reshapes vectors and
feature maps into that layout.  Notation: ``N`` memory slots of ``C`` dimensions, ``Q`` queries.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .config import SCORE_ERRORS

__all__ = [
    "safe_eps",
    "memory_similarity",
    "hard_shrink_relu",
    "address_memory",
    "entropy_loss",
    "addressing_stats",
    "reconstruction_error",
]

SIMILARITIES = ("dot", "cosine")


def safe_eps(dtype: torch.dtype, eps: float | None = None) -> float:
    """An epsilon that does not underflow in ``dtype``.

    The authors use 1e-12, which is 0 in float16 (smallest normal 6.1e-5), turning ``0 / 0`` into NaN in the
    shrinkage.  We use ``max(eps, finfo(dtype).tiny)``.
    """
    base = 1e-12 if eps is None else float(eps)
    if dtype.is_floating_point:
        return max(base, float(torch.finfo(dtype).tiny))
    return base


def memory_similarity(queries: Tensor, memory: Tensor, similarity: str = "dot", temperature: float = 1.0) -> Tensor:
    """Addressing logits between queries and memory slots.

    Args:
        queries: ``(Q, C)``.
        memory: ``(N, C)``.
        similarity: ``"dot"`` (the authors' released code: ``z m_i^T``) or ``"cosine"`` (paper eq. 5).
        temperature: logits are divided by it.  Cosine logits lie in ``[-1, 1]``; with ``N = 2000`` slots and
            temperature 1 every softmax weight stays below ``e^2 / N``, so no weight can pass a shrink threshold
            of a few ``1/N``.  A temperature around 0.05-0.1 restores sparse addressing.

    Returns:
        ``(Q, N)`` logits.
    """
    if similarity == "dot":
        logits = queries @ memory.t()  # (Q, N)
    elif similarity == "cosine":
        logits = F.normalize(queries, dim=1) @ F.normalize(memory, dim=1).t()  # (Q, N) in [-1, 1]
    else:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
    if temperature != 1.0:
        logits = logits / temperature
    return logits


def hard_shrink_relu(weights: Tensor, threshold: float, eps: float | None = None) -> Tensor:
    """Hard shrinkage of addressing weights (paper eq. 7), written with ReLU so that it is differentiable.

    ``w_hat = relu(w - lambda) * w / (|w - lambda| + eps)``: weights at or below ``lambda`` become 0, the others
    keep (up to ``eps``) their value.  No re-normalisation here; see :func:`address_memory`.
    """
    eps = safe_eps(weights.dtype, eps)
    shifted = weights - threshold
    return F.relu(shifted) * weights / (shifted.abs() + eps)


def address_memory(
    queries: Tensor,
    memory: Tensor,
    shrink_threshold: float = 0.0,
    similarity: str = "dot",
    temperature: float = 1.0,
    eps: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Read the memory: softmax addressing, optional hard shrinkage and L1 re-normalisation, then ``w_hat M``.

    Args:
        queries: ``(Q, C)``.
        memory: ``(N, C)``.
        shrink_threshold: ``lambda`` in ``[0, 1)``; 0 switches shrinkage off (MemAE-nonSpar).
        similarity, temperature: see :func:`memory_similarity`.
        eps: numerical guard, made safe for the dtype by :func:`safe_eps`.

    Returns:
        ``(output, weights)``: ``(Q, C)`` read-out and ``(Q, N)`` addressing weights after shrinkage.  A query
        whose weights all shrink to zero reads a zero vector.
    """
    logits = memory_similarity(queries, memory, similarity, temperature)  # (Q, N)
    weights = torch.softmax(logits, dim=1)  # (Q, N)
    if shrink_threshold > 0:
        eps_value = safe_eps(weights.dtype, eps)
        weights = hard_shrink_relu(weights, shrink_threshold, eps_value)
        weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(eps_value)  # L1 re-normalisation
    output = weights @ memory  # (Q, C)
    return output, weights


def entropy_loss(weights: Tensor, dim: int = 1, eps: float | None = None) -> Tensor:
    """Mean entropy of the addressing weights (paper eq. 9): ``mean over queries of -sum_i w_i log(w_i + eps)``.

    Args:
        weights: addressing weights with slots along ``dim``, e.g. ``(B, N)`` or ``(B, N, T, H, W)``.

    Returns:
        a scalar.  ``eps`` keeps ``log(0)`` finite so an all-zero (collapsed) query gives 0, never NaN.
    """
    eps = safe_eps(weights.dtype, eps)
    per_query = -(weights * torch.log(weights + eps)).sum(dim=dim)
    return per_query.mean()


@torch.no_grad()
def addressing_stats(weights: Tensor, dim: int = 1) -> dict[str, float | Tensor]:
    """Diagnostics of how the memory is used.

    Args:
        weights: addressing weights with ``N`` slots along ``dim``.

    Returns:
        dict with ``slot_usage`` (``(N,)`` mean weight per slot), ``used_slots`` (fraction of slots with any
        non-zero weight), ``zero_query_fraction`` (queries whose weights all shrank to zero, the collapse users
        report), ``mean_active_slots`` (non-zero weights per query) and ``mean_entropy``.
    """
    flat = weights.movedim(dim, -1).reshape(-1, weights.shape[dim]).float()  # (Q, N)
    active = flat > 0
    return {
        "slot_usage": flat.mean(dim=0),
        "used_slots": active.any(dim=0).float().mean().item(),
        "zero_query_fraction": (~active.any(dim=1)).float().mean().item(),
        "mean_active_slots": active.sum(dim=1).float().mean().item(),
        "mean_entropy": entropy_loss(flat, dim=1).item(),
    }


def reconstruction_error(reconstruction: Tensor, x: Tensor, error: str = "mse", *, reduce: bool = True) -> Tensor:
    """Squared (``"mse"``, the paper's) or absolute (``"mae"``) residual of ``reconstruction`` against ``x``.

    Shape: ``x`` and ``reconstruction`` ``(B, *)``; returns the mean over each sample's elements ``(B,)``, or with
    ``reduce=False`` the per-element error ``(B, *)`` (the error maps of the video scoring).
    """
    if error not in SCORE_ERRORS:
        raise ValueError(f"error must be one of {SCORE_ERRORS}, got {error!r}")
    diff = reconstruction - x
    per_element = diff.pow(2) if error == "mse" else diff.abs()
    return per_element.flatten(1).mean(1) if reduce else per_element
