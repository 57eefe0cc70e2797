"""The PixelCNN baseline (van den Oord et al. 2016): an autoregressive image likelihood, scored by its NLL."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..detector_base import Interval
from .base import DeepDetector, check_unit_range

__all__ = ["PixelCNNDetector", "PixelCNN", "MaskedConv2d"]

LEVELS = 256  # uint8 quantisation: a 256-way softmax per pixel and channel


class MaskedConv2d(nn.Conv2d):
    """A convolution that only sees pixels before the current one in raster order.

    Type ``"A"`` (first layer) also hides the current pixel; type ``"B"`` (later layers) lets it through, since
    there it only carries information about earlier pixels.  The mask spans all input channels.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int) -> None:
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.ones_like(self.weight)
        centre = kernel_size // 2
        mask[:, :, centre, centre + (mask_type == "B") :] = 0
        mask[:, :, centre + 1 :, :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


class PixelCNN(nn.Module):
    """Masked conv A (k x k) -> ``n_layers`` x [ReLU, masked conv B 3x3] -> ReLU, 1x1 -> ReLU, 1x1 to 256 x C logits.

    Channels: all ``C`` values of a pixel are predicted from the pixels before it (all channels), independently of
    each other given that context (no masking across channels; a valid, slightly weaker, likelihood).

    Shape: input ``(B, C, H, W)`` in [0, 1]; output logits ``(B, 256, C, H, W)``.
    """

    def __init__(self, in_channels: int, hidden: int = 64, n_layers: int = 5, first_kernel: int = 7) -> None:
        super().__init__()
        self.in_channels = in_channels
        layers: list[nn.Module] = [MaskedConv2d("A", in_channels, hidden, first_kernel)]
        for _ in range(n_layers):
            layers += [nn.ReLU(), MaskedConv2d("B", hidden, hidden, 3)]
        layers += [nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, LEVELS * in_channels, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        logits = self.net(x * 2 - 1)  # centred input
        return logits.view(b, c, LEVELS, h, w).transpose(1, 2)

    def nll(self, x: Tensor) -> Tensor:
        """Per-element NLL in nats of images ``x`` in [0, 1] after quantisation, ``(B, C, H, W)``."""
        target = quantise(x)
        return F.cross_entropy(self(target.float() / (LEVELS - 1)), target, reduction="none")

    def loss(self, x: Tensor) -> Tensor:
        """Mean NLL per element (nats): the objective :func:`memae.training.train` minimises."""
        return self.nll(x).mean()

    def sample_errors(self, x: Tensor) -> Tensor:
        """Mean NLL per element of each image, ``(B,)`` (validation)."""
        return self.nll(x).flatten(1).mean(1)


def quantise(x: Tensor) -> Tensor:
    """Images in [0, 1] -> integer levels 0..255 ``(B, C, H, W)`` (int64)."""
    return (x * (LEVELS - 1)).round().clamp(0, LEVELS - 1).long()


class PixelCNNDetector(DeepDetector):
    """A small PixelCNN on uint8-quantised images; score = negative log-likelihood in bits per dimension.

    Images only (``(N, C, H, W)`` in [0, 1]); tables raise :class:`ConfigError`.  Each image is quantised to 256
    levels and the network sees the quantised image, so the likelihood is a proper discrete one.

    Hyper-parameters (defaults, chosen without test labels):
        hidden: channels of the masked layers.  Default 64.
        n_layers: number of masked type-B 3x3 layers after the type-A 7x7 one.  Default 5.
        epochs, batch_size, lr: Adam settings.  Default 20, 64, 1e-3.
        device, random_state, verbose, contamination: as the other deep detectors.

    ``decision_function``: ``-log2 p(x) / (C * H * W)`` (bits/dim); higher = more anomalous.
    """

    _images_only = True

    def __init__(
        self,
        hidden: int = 64,
        n_layers: int = 5,
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 1e-3,
        device: str = "auto",
        random_state: int | None = 0,
        verbose: bool = False,
        contamination: float = 0.1,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.contamination = contamination

    _parameter_rules = {
        **DeepDetector._parameter_rules,
        "hidden": [Interval(Integral, 1, None, "left")],
        "n_layers": [Interval(Integral, 1, None, "left")],
    }

    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:
        check_unit_range(X, "PixelCNN")
        if X_val is not None:
            check_unit_range(X_val, "PixelCNN", "X_val")
        super()._fit(X, X_val)

    def _score(self, X: np.ndarray) -> np.ndarray:
        check_unit_range(X, "PixelCNN")
        return super()._score(X)

    def _build(self, X: np.ndarray) -> nn.Module:
        return PixelCNN(X.shape[1], int(self.hidden), int(self.n_layers))

    def _score_batch(self, module: nn.Module, x: Tensor) -> Tensor:
        return module.sample_errors(x) / math.log(2)
