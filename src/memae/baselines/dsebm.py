"""The DSEBM baseline: Deep Structured Energy-Based Models (Zhai et al. ICML 2016), trained by score matching."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..detector_base import Interval, Options
from .base import DeepDetector, build_autoencoder, code_shape, resolve_architecture

__all__ = ["DSEBMDetector", "EnergyNet"]

SCORES = ("reconstruction", "energy")


class EnergyNet(nn.Module):
    """``E(x) = 0.5 ||x - b||^2 - sum_k softplus(f_k(x))`` with ``f = Linear(flatten(features(x)))``.

    Shape: input ``(B, *input_shape)``; :meth:`energy` returns ``(B,)``.  :meth:`loss` is denoising score matching
    with corruption ``noise_std``; :meth:`sample_errors` (validation) the same objective without the corruption.
    Both differentiate the energy with respect to the input, so validation runs with gradients on
    (``needs_input_grad``).
    """

    needs_input_grad = True

    def __init__(self, features: nn.Module, code_numel: int, n_units: int, input_shape: tuple[int, ...],
                 noise_std: float = 0.1) -> None:
        super().__init__()
        self.features = features
        self.noise_std = float(noise_std)
        self.head = nn.Linear(code_numel, n_units)
        self.bias = nn.Parameter(torch.zeros(input_shape))

    def energy(self, x: Tensor) -> Tensor:
        quadratic = 0.5 * (x - self.bias).pow(2).flatten(1).sum(1)
        return quadratic - F.softplus(self.head(self.features(x).flatten(1))).sum(1)

    def energy_and_grad(self, x: Tensor, create_graph: bool) -> tuple[Tensor, Tensor]:
        """``(E(x), dE/dx)``; ``create_graph=True`` lets a loss on the gradient train the network."""
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        energy = self.energy(x)
        (grad,) = torch.autograd.grad(energy.sum(), x, create_graph=create_graph)
        return energy, grad

    def forward(self, x: Tensor) -> Tensor:
        """The one-step reconstruction ``x - dE/dx(x)`` (for a Gaussian-smoothed density, the denoised ``x``)."""
        return x - self.energy_and_grad(x, create_graph=self.training)[1]

    def loss(self, x: Tensor) -> Tensor:
        """``||x - (x_noisy - dE/dx(x_noisy))||^2`` per sample, averaged, ``x_noisy = x + noise_std * N(0, I)``."""
        noisy = x + self.noise_std * torch.randn_like(x)
        _, grad = self.energy_and_grad(noisy, create_graph=torch.is_grad_enabled() and self.training)
        return (x - (noisy - grad)).pow(2).flatten(1).sum(1).mean()

    def sample_errors(self, x: Tensor) -> Tensor:
        """``||dE/dx(x)||^2`` per sample, ``(B,)``: the objective at zero corruption, so validation draws no noise."""
        return self.energy_and_grad(x, create_graph=False)[1].detach().pow(2).flatten(1).sum(1)


class DSEBMDetector(DeepDetector):
    """Deep structured energy-based model trained by denoising score matching.

    Energy: ``E(x) = 0.5 ||x - b||^2 - sum softplus(f(x))`` where ``f`` is the encoder of ``architecture`` (the
    same network as MemAE's: the conv encoder for images, the MLP for tables) followed by a linear layer to
    ``n_units`` units.  Training minimises ``||x - (x_noisy - dE/dx(x_noisy))||^2`` with
    ``x_noisy = x + noise_std * N(0, I)``, the gradient taken with autograd (``create_graph=True``).

    Score (``score``): ``"reconstruction"`` (default, as the MemAE paper scores DSEBM): the mean squared error
    ``||x - (x - dE/dx(x))||^2 / dim``; ``"energy"``: ``E(x)``.  Higher = more anomalous for both.

    Hyper-parameters (defaults, chosen without test labels):
        architecture, model_options: as :class:`memae.baselines.VAEDetector`; ``"auto"`` picks by data shape.
        n_units: width of the softplus layer.  Default 128.
        noise_std: std of the training corruption, in data units (images in [0, 1]; standardised tables).
            Default 0.1.
        epochs, batch_size, lr: Adam settings.  Default 30, 64, 1e-3.
        device, random_state, verbose, contamination: as the other deep detectors.
    """

    def __init__(
        self,
        architecture: str = "auto",
        model_options: dict[str, Any] | None = None,
        n_units: int = 128,
        noise_std: float = 0.1,
        score: str = "reconstruction",
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 1e-3,
        device: str = "auto",
        random_state: int | None = 0,
        verbose: bool = False,
        contamination: float = 0.1,
    ) -> None:
        self.architecture = architecture
        self.model_options = model_options
        self.n_units = n_units
        self.noise_std = noise_std
        self.score = score
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.contamination = contamination

    _parameter_rules = {
        **DeepDetector._parameter_rules,
        "score": [Options(SCORES)],
        "n_units": [Interval(Integral, 1, None, "left")],
        "noise_std": [Interval(Real, 0, None, "neither")],
    }

    def _build(self, X: np.ndarray) -> nn.Module:
        self.architecture_ = resolve_architecture(self.architecture, X)
        encoder = build_autoencoder(self.architecture_, X, self.model_options).encoder
        numel = int(np.prod(code_shape(encoder, X.shape[1:])))
        return EnergyNet(encoder, numel, int(self.n_units), tuple(X.shape[1:]), float(self.noise_std))

    def _score_batch(self, module: nn.Module, x: Tensor) -> Tensor:
        energy, grad = module.energy_and_grad(x, create_graph=False)
        if self.score == "energy":
            return energy
        return grad.pow(2).flatten(1).mean(1)  # ||x - (x - dE/dx)||^2 per input element
