"""Fully connected encoders/decoders for tables (paper 4.3: FC 120-60-30-10-3, tanh except the last layer)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["ACTIVATIONS", "mlp_encoder", "mlp_decoder"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}


def _mlp(widths: Sequence[int], activation: str) -> nn.Sequential:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    modules: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        modules.append(nn.Linear(fan_in, fan_out))
        if index < len(widths) - 2:
            modules.append(ACTIVATIONS[activation]())
    return nn.Sequential(*modules)


def mlp_encoder(widths: Sequence[int], activation: str = "tanh") -> nn.Sequential:
    """``Linear -> activation`` through ``widths`` (input first); the code layer is linear.

    Shape: ``(B, widths[0]) -> (B, widths[-1])``.
    """
    return _mlp(widths, activation)


def mlp_decoder(widths: Sequence[int], activation: str = "tanh") -> nn.Sequential:
    """The mirror of :func:`mlp_encoder`: ``(B, widths[0]) -> (B, widths[-1])``, linear output."""
    return _mlp(widths, activation)
