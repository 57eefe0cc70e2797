"""The DAGMM baseline: Deep Autoencoding Gaussian Mixture Model (Zong et al. ICLR 2018)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..detector_base import Interval
from ..errors import ConfigError
from .base import DeepDetector, build_autoencoder, code_shape, resolve_architecture

__all__ = ["DAGMMDetector", "DAGMM", "GMM", "gmm_from_assignments", "gmm_energy"]

KDD_HIDDEN = (60, 30, 10, 1)  # DAGMM paper, KDDCUP: FC(120, 60, tanh)-FC(60, 30, tanh)-FC(30, 10, tanh)-FC(10, 1)
_EPS = 1e-12


class GMM(NamedTuple):
    """Mixture weights ``phi (K,)``, means ``mu (K, d)`` and covariances ``cov (K, d, d)``."""

    phi: Tensor
    mu: Tensor
    cov: Tensor


def gmm_from_assignments(z: Tensor, gamma: Tensor) -> GMM:
    """The mixture's parameters from soft assignments (DAGMM eq. 5).

    Args:
        z: ``(B, d)`` features.
        gamma: ``(B, K)`` membership probabilities (rows sum to 1).
    """
    weight = gamma.sum(0)  # (K,)
    phi = weight / len(z)
    mu = gamma.t() @ z / (weight[:, None] + _EPS)
    diff = z[:, None, :] - mu[None]  # (B, K, d)
    cov = torch.einsum("bk,bki,bkj->kij", gamma, diff, diff) / (weight[:, None, None] + _EPS)
    return GMM(phi, mu, cov)


def _cholesky(cov: Tensor, jitter: float) -> Tensor:
    """Cholesky factor of ``cov + jitter * I``, raising the jitter tenfold until every matrix factorises."""
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    for _ in range(8):
        factor, info = torch.linalg.cholesky_ex(cov + jitter * eye)
        if not bool(info.any()):
            return factor
        jitter *= 10.0
    raise ConfigError("DAGMM: a mixture covariance stays singular even with a large jitter; raise jitter or lower n_gmm")


def gmm_energy(z: Tensor, gmm: GMM, jitter: float = 1e-6) -> Tensor:
    """Sample energy ``-log sum_k phi_k N(z | mu_k, cov_k + jitter I)`` (DAGMM eq. 6), ``(B,)``."""
    factor = _cholesky(gmm.cov, jitter)  # (K, d, d)
    diff = (z[:, None, :] - gmm.mu[None]).unsqueeze(-1)  # (B, K, d, 1)
    solved = torch.linalg.solve_triangular(factor.expand(len(z), *factor.shape), diff, upper=False).squeeze(-1)
    mahalanobis = solved.pow(2).sum(-1)  # (B, K)
    log_det = 2 * torch.log(torch.diagonal(factor, dim1=-2, dim2=-1)).sum(-1)  # (K,)
    d = z.shape[1]
    log_prob = -0.5 * (mahalanobis + log_det + d * math.log(2 * math.pi)) + torch.log(gmm.phi + _EPS)
    return -torch.logsumexp(log_prob, dim=1)


class DAGMM(nn.Module):
    """Compression network (an autoencoder) + estimation network.

    Features ``z = [z_c, relative euclidean distance, cosine similarity]`` of ``x`` and its reconstruction; the
    estimation network ``Linear(d, est_hidden) -> tanh -> dropout -> Linear(est_hidden, K) -> softmax`` gives the
    memberships.  With ``bottleneck`` (images) the conv latent map is squeezed to a small ``z_c`` by a linear layer
    and expanded back before the decoder.

    Shape: ``forward(x) -> (reconstruction (B, *x.shape[1:]), z (B, d), gamma (B, K))``.  :meth:`loss` is DAGMM's
    objective with the mixture estimated from the batch; :meth:`sample_errors` splits it over the batch's samples.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        latent_shape: tuple[int, ...],
        n_gmm: int,
        est_hidden: int,
        dropout: float,
        bottleneck: int | None = None,
        lambda_energy: float = 0.1,
        lambda_cov: float = 0.005,
        jitter: float = 1e-6,
    ) -> None:
        super().__init__()
        self.lambda_energy, self.lambda_cov, self.jitter = float(lambda_energy), float(lambda_cov), float(jitter)
        self.encoder = encoder
        self.decoder = decoder
        self.latent_shape = tuple(latent_shape)
        numel = int(np.prod(latent_shape))
        if bottleneck is not None:
            self.down: nn.Module | None = nn.Linear(numel, bottleneck)
            self.up: nn.Module | None = nn.Sequential(nn.Linear(bottleneck, numel), nn.ReLU())
            code = bottleneck
        else:
            self.down = self.up = None
            code = numel
        self.estimation = nn.Sequential(
            nn.Linear(code + 2, est_hidden), nn.Tanh(), nn.Dropout(dropout), nn.Linear(est_hidden, n_gmm), nn.Softmax(dim=1)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        h = self.encoder(x)
        if self.down is not None:
            z_c = self.down(h.flatten(1))
            h = self.up(z_c).view(len(x), *self.latent_shape)
        else:
            z_c = h.flatten(1)
        reconstruction = self.decoder(h)
        flat, flat_rec = x.flatten(1), reconstruction.flatten(1)
        relative = (flat - flat_rec).norm(dim=1) / flat.norm(dim=1).clamp_min(1e-8)
        cosine = F.cosine_similarity(flat, flat_rec, dim=1, eps=1e-8)
        z = torch.cat([z_c, relative[:, None], cosine[:, None]], dim=1)
        return reconstruction, z, self.estimation(z)

    def sample_errors(self, x: Tensor) -> Tensor:
        """Each sample's share of :meth:`loss`, ``(B,)``: ``||x - x'||^2 + lambda_energy * E(z)`` plus the batch's
        covariance penalty; their mean is the batch loss."""
        reconstruction, z, gamma = self(x)
        z, gamma = z.double(), gamma.double()  # the mixture maths in float64: covariances of tanh codes are tiny
        gmm = gmm_from_assignments(z, gamma)
        energy = gmm_energy(z, gmm, self.jitter)
        penalty = (1.0 / (torch.diagonal(gmm.cov, dim1=-2, dim2=-1) + self.jitter)).sum()
        rec = (reconstruction - x).pow(2).flatten(1).sum(1)  # ||x - x'||^2, DAGMM eq. 7
        return rec + (self.lambda_energy * energy + self.lambda_cov * penalty).to(rec.dtype)

    def loss(self, x: Tensor) -> Tensor:
        """``mean ||x - x'||^2 + lambda_energy * mean E(z) + lambda_cov * sum_k,i 1 / Sigma_k[i, i]`` (DAGMM eq. 7)."""
        return self.sample_errors(x).mean()


class DAGMMDetector(DeepDetector):
    """Deep autoencoding Gaussian mixture model, scored by the sample energy under the fitted mixture.

    Loss per batch: ``mean (x - x')^2 + lambda_energy * mean E(z) + lambda_cov * sum_k,i 1 / Sigma_k[i, i]``,
    the mixture (``phi, mu, Sigma``) estimated from the batch's soft assignments; covariances get ``jitter * I``
    (raised tenfold when a Cholesky factorisation fails) and the mixture maths runs in float64.  After training
    the mixture is re-estimated on the WHOLE training set (eval mode, no dropout): fitted ``gmm_``.

    Compression network: the autoencoder of ``architecture`` (the same as MemAE's).  For ``kdd`` the code width
    defaults to 1, i.e. FC 120-60-30-10-1 tanh as in the DAGMM paper; for ``mlp`` the auto widths.  For images
    the conv latent map is squeezed by a linear layer to ``latent_dim`` numbers (default 8) and expanded back.

    Hyper-parameters (defaults from the DAGMM paper, no test labels involved):
        n_gmm: mixture components K.  Default 4 (DAGMM on KDDCUP).
        est_hidden, dropout: estimation network width and dropout.  Default 10, 0.5.
        lambda_energy, lambda_cov: loss weights.  Default 0.1, 0.005.
        jitter: diagonal added to every covariance.  Default 1e-6.
        latent_dim: images only, see above.  Default None = 8.
        epochs, batch_size, lr: Adam settings.  Default 50, 256, 1e-4 (the DAGMM paper trains KDDCUP for 200
            epochs with batch 1024 and lr 1e-4).
        architecture, model_options, device, random_state, verbose, contamination: as the other deep detectors.
    """

    def __init__(
        self,
        architecture: str = "auto",
        model_options: dict[str, Any] | None = None,
        latent_dim: int | None = None,
        n_gmm: int = 4,
        est_hidden: int = 10,
        dropout: float = 0.5,
        lambda_energy: float = 0.1,
        lambda_cov: float = 0.005,
        jitter: float = 1e-6,
        epochs: int = 50,
        batch_size: int = 256,
        lr: float = 1e-4,
        device: str = "auto",
        random_state: int | None = 0,
        verbose: bool = False,
        contamination: float = 0.1,
    ) -> None:
        self.architecture = architecture
        self.model_options = model_options
        self.latent_dim = latent_dim
        self.n_gmm = n_gmm
        self.est_hidden = est_hidden
        self.dropout = dropout
        self.lambda_energy = lambda_energy
        self.lambda_cov = lambda_cov
        self.jitter = jitter
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.contamination = contamination

    _parameter_rules = {
        **DeepDetector._parameter_rules,
        "latent_dim": [Interval(Integral, 1, None, "left"), None],
        "n_gmm": [Interval(Integral, 1, None, "left")],
        "est_hidden": [Interval(Integral, 1, None, "left")],
        "dropout": [Interval(Real, 0, 1, "left")],
        "lambda_energy": [Interval(Real, 0, None, "left")],
        "lambda_cov": [Interval(Real, 0, None, "left")],
        "jitter": [Interval(Real, 0, None, "neither")],
    }

    def _build(self, X: np.ndarray) -> nn.Module:
        self.architecture_ = resolve_architecture(self.architecture, X)
        options = dict(self.model_options or {})
        if self.architecture_ == "kdd":
            options.setdefault("hidden", KDD_HIDDEN)
        ae = build_autoencoder(self.architecture_, X, options)
        latent = code_shape(ae.encoder, X.shape[1:])
        bottleneck = None if X.ndim == 2 else int(self.latent_dim or 8)
        return DAGMM(ae.encoder, ae.decoder, latent, int(self.n_gmm), int(self.est_hidden), float(self.dropout), bottleneck,
                     float(self.lambda_energy), float(self.lambda_cov), float(self.jitter))

    @torch.no_grad()
    def _after_training(self, X: np.ndarray) -> None:
        """Mixture parameters from the whole training set: moments accumulated over batches in float64."""
        self.module_.eval()
        weight = mean_sum = second_sum = None
        for batch in self._batches(X):
            _, z, gamma = self.module_(batch)
            z, gamma = z.double(), gamma.double()
            w, m, s = gamma.sum(0), gamma.t() @ z, torch.einsum("bk,bi,bj->kij", gamma, z, z)
            weight, mean_sum, second_sum = (w, m, s) if weight is None else (weight + w, mean_sum + m, second_sum + s)
        mu = mean_sum / (weight[:, None] + _EPS)
        cov = second_sum / (weight[:, None, None] + _EPS) - mu[:, :, None] * mu[:, None, :]
        cov = 0.5 * (cov + cov.transpose(1, 2))  # E[zz'] - mu mu' is symmetric only up to rounding
        self.gmm_ = GMM(weight / len(X), mu, cov)

    def _score_batch(self, module: nn.Module, x: Tensor) -> Tensor:
        _, z, _ = module(x)
        return gmm_energy(z.double(), self.gmm_, float(self.jitter))
