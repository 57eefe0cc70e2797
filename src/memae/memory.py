"""The memory module of MemAE (paper section 3.3)."""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import torch
from torch import Tensor, nn

from . import functional as MF
from .errors import ConfigError, DataError

__all__ = ["MemoryModule", "MemoryOutput", "resolve_shrink_threshold", "DEFAULT_TEMPERATURE", "DEFAULT_SHRINK_THRESHOLD"]

DEFAULT_TEMPERATURE = {"dot": 1.0, "cosine": 0.1}
DEFAULT_SHRINK_THRESHOLD = 0.0025  # lambda of the authors' code for N = 2000 (the paper's video setting)


class MemoryOutput(NamedTuple):
    """What :class:`MemoryModule` returns; unpacks as ``z_hat, weights = memory(z)``."""

    output: Tensor  # same shape as the query
    weights: Tensor  # (B, N) or (B, N, *spatial)


def resolve_shrink_threshold(value: float | str, num_slots: int) -> float:
    """Turn ``0.0025`` or ``"2/N"`` / ``"2.5/N"`` into a float ``lambda`` and check it lies in ``[0, 1)``."""
    if isinstance(value, str):
        text = value.replace(" ", "")
        if not text.endswith("/N"):
            raise ConfigError(
                f"shrink_threshold {value!r} is not a number or a multiple of 1/N; write e.g. 0.0025 or '2/N'"
            )
        try:
            factor = float(text[:-2] or 1.0)
        except ValueError:
            raise ConfigError(f"shrink_threshold {value!r}: the factor before '/N' must be a number, e.g. '2/N'") from None
        threshold = factor / num_slots
    else:
        threshold = float(value)
    if not (0.0 <= threshold < 1.0) or math.isnan(threshold):
        raise ConfigError(
            f"shrink_threshold must lie in [0, 1), got {threshold:g}; the paper uses 1/N to 3/N, 0 turns shrinkage off"
        )
    return threshold


class MemoryModule(nn.Module):
    r"""Memory of ``N`` prototype vectors read by attention: :math:`\hat z = \hat w M`.

    The query ``z`` addresses the slots with ``w = softmax(sim(z, m_i) / temperature)`` (eq. 4-5); hard shrinkage
    (eq. 7) zeroes weights at or below ``lambda`` and the rest is re-normalised to sum to one.  Shrinkage off
    (``shrink_threshold=0``) gives the paper's MemAE-nonSpar.

    Which similarity reproduces the paper?  The paper writes cosine similarity (eq. 5), but its numbers come from
    the authors' released code, which uses a plain dot product with no temperature and ``lambda = 0.0025`` for
    ``N = 2000``.  ``similarity="dot"`` is therefore the default.  Plain cosine without a temperature cannot pass
    any threshold near ``1/N`` for large ``N``, hence the ``temperature`` argument.

    Args:
        num_slots: ``N``, number of memory slots.
        dim: ``C``, dimension of each slot (= channels of the query).
        shrink_threshold: ``lambda`` as a float in ``[0, 1)`` or a multiple of ``1/N`` such as ``"2/N"``.
            Default: ``0.0025`` (the authors' code).
        similarity: ``"dot"`` (authors' code, default) or ``"cosine"`` (paper eq. 5).
        temperature: divides the logits.  Default (None): ``1.0`` for dot, ``0.1`` for cosine (with 1.0 every
            cosine weight stays below ``e^2 / N``, so a threshold near ``1/N`` zeroes all of them for large ``N``).
        eps: numerical guard; made safe for the dtype in use.  Default: ``1e-12`` (raised where it would underflow).

    Shape:
        - Input: ``(B, C)`` vectors or ``(B, C, *spatial)`` feature maps, where every position is one query.
        - Output: ``output`` of the input's shape and ``weights`` of shape ``(B, N)`` or ``(B, N, *spatial)``.

    Attributes:
        memory: learnable ``(N, C)`` parameter, initialised uniform in :math:`\pm 1/\sqrt{C}`.

    Examples::

        >>> memory = MemoryModule(2000, 256)
        >>> z_hat, weights = memory(torch.randn(2, 256, 2, 16, 16))
        >>> z_hat.shape, weights.shape
        (torch.Size([2, 256, 2, 16, 16]), torch.Size([2, 2000, 2, 16, 16]))
    """

    num_slots: int
    dim: int
    shrink_threshold: float
    memory: Tensor

    def __init__(
        self,
        num_slots: int,
        dim: int,
        shrink_threshold: float | str = DEFAULT_SHRINK_THRESHOLD,
        similarity: str = "dot",
        temperature: float | None = None,
        eps: float = 1e-12,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(num_slots, numbers.Integral) or isinstance(num_slots, bool) or num_slots <= 0:
            raise ConfigError(f"num_slots (N) must be a positive integer, got {num_slots!r}")
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or dim <= 0:
            raise ConfigError(f"dim (C) must be a positive integer, got {dim!r}")
        if similarity not in MF.SIMILARITIES:
            raise ConfigError(f"similarity must be one of {MF.SIMILARITIES}, got {similarity!r}")
        if temperature is None:
            temperature = DEFAULT_TEMPERATURE[similarity]
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature!r}")
        self.num_slots = int(num_slots)
        self.dim = int(dim)
        self.shrink_threshold = resolve_shrink_threshold(shrink_threshold, num_slots)
        self.similarity = similarity
        self.temperature = float(temperature)
        self.eps = float(eps)
        self.memory = nn.Parameter(torch.empty(self.num_slots, self.dim, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.dim)
        nn.init.uniform_(self.memory, -bound, bound)

    def forward(self, z: Tensor) -> MemoryOutput:
        if z.ndim < 2 or z.shape[1] != self.dim:
            raise DataError(
                f"memory query has shape {tuple(z.shape)}, expected (B, {self.dim}) or (B, {self.dim}, *spatial): "
                f"the encoder's output channels must equal the memory dim"
            )
        spatial = z.shape[2:]
        queries = z.movedim(1, -1).reshape(-1, self.dim)  # (B * prod(spatial), C): one query per position
        out, weights = MF.address_memory(
            queries, self.memory, self.shrink_threshold, self.similarity, self.temperature, self.eps
        )
        batch = z.shape[0]
        # back to (B, C, *spatial); contiguous, or the decoder's convolutions take a slow strided path (~40 % slower)
        out = out.reshape(batch, *spatial, self.dim).movedim(-1, 1).contiguous()
        weights = weights.reshape(batch, *spatial, self.num_slots).movedim(-1, 1)  # (B, N, *spatial)
        return MemoryOutput(out, weights)

    def read_slots(self, weights: Tensor) -> Tensor:
        """Decode given addressing weights ``(K, N)`` into latent vectors ``(K, C)`` (e.g. one-hot to show slots)."""
        return weights.to(self.memory.dtype) @ self.memory

    def extra_repr(self) -> str:
        return (
            f"num_slots={self.num_slots}, dim={self.dim}, shrink_threshold={self.shrink_threshold:g}, "
            f"similarity={self.similarity!r}, temperature={self.temperature:g}"
        )
