"""The MemAE model: encoder -> memory -> decoder (paper section 3)."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import DataError
from ..functional import entropy_loss
from ..memory import MemoryModule

__all__ = ["MemAE", "MemAEOutput", "LossBreakdown", "DEFAULT_ENTROPY_WEIGHT"]

DEFAULT_ENTROPY_WEIGHT = 0.0002  # alpha of eq. 10, paper and authors' code


class MemAEOutput(NamedTuple):
    """Unpacks as ``reconstruction, weights = model(x)``; ``weights`` is None for a plain autoencoder."""

    reconstruction: Tensor
    weights: Tensor | None


class LossBreakdown(NamedTuple):
    """The training objective (eq. 10) and its parts, all scalars."""

    total: Tensor
    reconstruction: Tensor
    entropy: Tensor
    latent_l1: Tensor


class MemAE(nn.Module):
    """Memory-augmented autoencoder: ``x_hat = decoder(memory(encoder(x)))``.

    Args:
        encoder: maps ``x`` to the latent ``z`` (vectors ``(B, C)`` or maps ``(B, C, *spatial)``).
        memory: a :class:`MemoryModule` or ``None`` for the plain autoencoder baseline.
        decoder: maps the (memory-read) latent back to the input's shape.
        entropy_weight: alpha of eq. 10.  Default: 0.0002 with a memory, 0 without.
        latent_l1_weight: weight of an l1 penalty on the latent (the ``ae-l1`` baseline of Table 4).  Default: 0.
        flatten_latent: address the memory with the whole flattened latent of a sample (one query per sample)
            instead of one query per spatial position.  Default: False.
        input_shape: the per-sample shape ``(C, *spatial)`` or ``(D,)`` the network round-trips exactly; inputs of
            any other shape are refused with a message.  Default: not checked.

    Shape:
        - Input: ``(B, *input_shape)``.
        - Output: ``reconstruction`` of the same shape, ``weights`` ``(B, N, *latent_spatial)`` or ``None``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        memory: MemoryModule | None,
        decoder: nn.Module,
        *,
        entropy_weight: float | None = None,
        latent_l1_weight: float = 0.0,
        flatten_latent: bool = False,
        input_shape: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.memory = memory
        self.decoder = decoder
        if entropy_weight is None:
            entropy_weight = DEFAULT_ENTROPY_WEIGHT if memory is not None else 0.0
        self.entropy_weight = float(entropy_weight)
        self.latent_l1_weight = float(latent_l1_weight)
        self.flatten_latent = bool(flatten_latent)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.config: dict[str, Any] = {}  # filled by build_model so checkpoints can rebuild the model

    # -- pieces -------------------------------------------------------------------------------------------------
    def check_input(self, x: Tensor) -> None:
        """Raise :class:`DataError` with a one-line fix when ``x`` does not fit the network."""
        if self.input_shape is None:
            return
        if x.ndim != len(self.input_shape) + 1 or tuple(x.shape[1:]) != self.input_shape:
            expected = "(B, " + ", ".join(str(s) for s in self.input_shape) + ")"
            hint = "resize the input or build the model with input_shape/in_channels/in_features to match"
            if x.ndim == len(self.input_shape) + 1 and x.shape[1] != self.input_shape[0]:
                hint = (
                    f"the model expects {self.input_shape[0]} channel(s) and got {x.shape[1]}; "
                    "convert the data (grey/RGB) or build the model with in_channels=" + str(x.shape[1])
                )
            raise DataError(f"input has shape {tuple(x.shape)}, expected {expected}: {hint}")

    def encode(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return self.encoder(x)

    def read_memory(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(z_hat, weights)``; the identity with ``weights=None`` without a memory."""
        if self.memory is None:
            return z, None
        if self.flatten_latent:
            z_hat, weights = self.memory(z.flatten(1))  # (B, C*prod(spatial)), (B, N)
            return z_hat.view_as(z), weights
        return self.memory(z)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    # -- forward and loss ---------------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> MemAEOutput:
        z_hat, weights = self.read_memory(self.encode(x))
        return MemAEOutput(self.decode(z_hat), weights)

    def loss(self, x: Tensor) -> LossBreakdown:
        """Eq. 10: reconstruction MSE + alpha * entropy (+ optional latent l1).

        The reconstruction term is the mean over all elements (the authors' code), not the paper's per-sample sum
        ``||x - x_hat||^2``; with alpha = 0.0002 this is what the authors trained with.
        """
        z = self.encode(x)
        z_hat, weights = self.read_memory(z)
        reconstruction = self.decode(z_hat)
        rec = F.mse_loss(reconstruction, x)
        zero = rec.new_zeros(())
        ent = entropy_loss(weights) if weights is not None else zero
        l1 = z.abs().mean() if self.latent_l1_weight > 0 else zero
        total = rec + self.entropy_weight * ent + self.latent_l1_weight * l1
        return LossBreakdown(total, rec, ent, l1)

    @torch.no_grad()
    def decode_slots(self, slots: Tensor | list[int], latent_shape: tuple[int, ...]) -> Tensor:
        """Decode single memory slots through the decoder (one-hot addressing), as in the paper's Figure 4.

        Args:
            slots: indices of the slots to show, ``(K,)``.
            latent_shape: per-sample latent shape ``(C, *spatial)``; with per-position memory the slot is placed
                at every position.

        Returns:
            ``(K, *input_shape)`` decoded images.
        """
        if self.memory is None:
            raise ValueError("decode_slots needs a model with a memory")
        slots = torch.as_tensor(slots, device=self.memory.memory.device)
        one_hot = F.one_hot(slots, self.memory.num_slots).to(self.memory.memory.dtype)  # (K, N)
        vectors = self.memory.read_slots(one_hot)  # (K, C) or (K, C*prod(spatial))
        if self.flatten_latent:
            z = vectors.view(len(slots), *latent_shape)
        else:
            spatial = latent_shape[1:]
            z = vectors.view(len(slots), -1, *([1] * len(spatial))).expand(len(slots), -1, *spatial)
        return self.decode(z.contiguous())

    def extra_repr(self) -> str:
        parts = [f"entropy_weight={self.entropy_weight:g}"]
        if self.latent_l1_weight:
            parts.append(f"latent_l1_weight={self.latent_l1_weight:g}")
        if self.flatten_latent:
            parts.append("flatten_latent=True")
        if self.input_shape is not None:
            parts.append(f"input_shape={self.input_shape}")
        return ", ".join(parts)
