"""The VAE baseline (Kingma and Welling 2014) on the same encoder/decoder as MemAE's autoencoder."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..detector_base import Interval
from .base import DeepDetector, build_autoencoder, code_shape, resolve_architecture

__all__ = ["VAEDetector", "VAE"]


class VAE(nn.Module):
    """``encoder -> (mu, logvar) heads -> reparameterised sample -> decoder``.

    The heads are 1x1 convolutions on a latent feature map ``(B, C, h, w)`` and linear layers on a latent vector
    ``(B, C)``; both keep the latent's shape, so the autoencoder's decoder is reused unchanged.  :meth:`loss` is the
    objective :func:`memae.training.train` minimises; :meth:`sample_errors` the per-sample one it validates with.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_shape: tuple[int, ...], beta: float = 1.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        channels = latent_shape[0]
        make = (lambda: nn.Conv2d(channels, channels, 1)) if len(latent_shape) == 3 else (lambda: nn.Linear(channels, channels))
        self.mu = make()
        self.logvar = make()

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.encoder(x)
        # The clamp keeps exp(logvar) finite early in training; it does not bind once the model has settled.
        return self.mu(h), self.logvar(h).clamp(-10.0, 10.0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar

    def sample_errors(self, x: Tensor) -> Tensor:
        """``sum((x - decoder(z))^2) + beta * KL(q(z|x) || N(0, I))`` of each sample, ``(B,)``; in eval mode
        ``z = mu``, so validation draws no noise."""
        reconstruction, mu, logvar = self(x)
        rec = (reconstruction - x).pow(2).flatten(1).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(1)
        return rec + self.beta * kl

    def loss(self, x: Tensor) -> Tensor:
        """The per-sample objective of :meth:`sample_errors`, averaged over the batch."""
        return self.sample_errors(x).mean()


class VAEDetector(DeepDetector):
    """Variational autoencoder with the paper's encoder/decoder of ``architecture``, scored by reconstruction error.

    Loss per sample: ``sum((x - decoder(z))^2) + beta * KL(q(z|x) || N(0, I))``, averaged over the batch.  Score:
    mean squared error of the reconstruction from the MEAN latent ``mu`` (no sampling), as the MemAE paper scores
    its VAE baseline.

    Hyper-parameters (defaults, chosen without test labels):
        architecture: ``"auto"`` (tables -> ``mlp``, 8x8 images -> ``digits``, 32x32 -> ``cifar10``, else
            ``mnist``) or a name of :func:`memae.models.list_architectures`; channels, image size and table width are
            taken from the training data.
        model_options: extra :func:`memae.models.build_model` overrides (e.g. ``{"hidden": (60, 30, 10, 3)}``).
        beta: weight of the KL term.  Default 1 (the standard VAE).
        epochs, batch_size, lr: Adam settings.  Default 30, 64, 1e-3.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda:N"``.
        random_state: seed of initialisation, batch order and sampling; None = random.
        verbose: show a progress bar.
        contamination: share of outliers in the training data (0, 0.5], default 0.1; sets ``threshold_`` and ``labels_``.

    With ``X_val`` (held-out training normals) the epoch with the lowest validation loss is kept.
    """

    def __init__(
        self,
        architecture: str = "auto",
        model_options: dict[str, Any] | None = None,
        beta: float = 1.0,
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
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.contamination = contamination

    _parameter_rules = {**DeepDetector._parameter_rules, "beta": [Interval(Real, 0, None, "left")]}

    def _build(self, X: np.ndarray) -> nn.Module:
        self.architecture_ = resolve_architecture(self.architecture, X)
        ae = build_autoencoder(self.architecture_, X, self.model_options)
        return VAE(ae.encoder, ae.decoder, code_shape(ae.encoder, X.shape[1:]), float(self.beta))

    def _score_batch(self, module: nn.Module, x: Tensor) -> Tensor:
        mu, _ = module.encode(x)
        return (module.decoder(mu) - x).pow(2).flatten(1).mean(1)
