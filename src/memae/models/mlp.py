"""Fully connected encoders/decoders for tables (paper 4.3: FC 120-60-30-10-3, tanh except the last layer)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["ACTIVATIONS", "mlp"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}


def mlp(widths: Sequence[int], activation: str = "tanh", *, batch_norm: bool = False,
        dropout: float = 0.0) -> nn.Sequential:
    """``Linear -> activation`` through ``widths`` (input first), the last layer linear: the encoder with the
    code last, and the decoder from the reversed widths (its output is linear).

    ``batch_norm`` and ``dropout`` make each hidden layer ``Linear -> BatchNorm1d -> activation -> Dropout``, the
    layer of PyOD's ``AutoEncoder``; the defaults are the paper's table network (no normalisation, no dropout).

    Shape: ``(B, widths[0]) -> (B, widths[-1])``.

    >>> mlp([6, 4, 2])
    Sequential(
      (0): Linear(in_features=6, out_features=4, bias=True)
      (1): Tanh()
      (2): Linear(in_features=4, out_features=2, bias=True)
    )
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    modules: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        modules.append(nn.Linear(fan_in, fan_out))
        if index < len(widths) - 2:
            if batch_norm:
                modules.append(nn.BatchNorm1d(fan_out))
            modules.append(ACTIVATIONS[activation]())
            if dropout > 0:
                modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)
