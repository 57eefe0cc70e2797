"""The common interface of the baseline detectors, and the training loop the deep ones share.

Every baseline shares :class:`memae.MemAEDetector`'s contract, scikit-learn + PyOD: :class:`BaselineDetector`
derives from the same :class:`memae.detector_base.BaseDetector` (PyOD's own ``BaseDetector`` when PyOD is
installed).  The constructor only stores keyword arguments (so ``sklearn.base.clone`` and ``get_params`` work),
whose accepted values each class declares in ``_parameter_rules``;
``fit(X, y=None, X_val=None)`` learns from NORMAL training data only and then sets ``decision_scores_`` (the
scores of ``X``), ``threshold_`` and ``labels_`` (the ``1 - contamination`` quantile, as PyOD does);
``decision_function(X)`` returns one float64 anomaly score per sample, HIGHER = MORE ANOMALOUS; ``score_samples(X)``
follows scikit-learn, higher = more normal (``-decision_function(X)``); ``predict``, ``predict_proba``,
``predict_confidence`` and ``fit_predict`` come from the base.  Scoring an unfitted detector raises scikit-learn's
``NotFittedError``.  ``X`` is a float array of images ``(N, C, H, W)`` in [0, 1] or of table rows ``(N, D)``.
Fitted attributes end in ``_``.

The deep baselines train through :func:`memae.training.train`, the loop MemAE trains with: their networks define
``loss(x)`` and ``sample_errors(x)``, and :meth:`DeepDetector._fit` maps the detector's settings onto a
:class:`memae.config.TrainConfig` (the epoch with the lowest validation error when ``X_val`` is given, else the
last epoch).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from torch import Tensor, nn

from ..errors import ConfigError, DataError, UnknownNameError
from ..models.registry import ARCHITECTURES, build_model
from ..detector_base import BaseDetector, InstanceOf, Interval
from ..training.distributed import resolve_device
from ..config import TrainConfig
from ..training.trainer import DivergenceError, drawing_from, seeded_generator, train

__all__ = ["BaseDetector", "BaselineDetector", "DeepDetector", "check_samples", "check_unit_range",
           "resolve_architecture", "build_autoencoder", "code_shape"]


def check_samples(X: Any, name: str = "X", *, min_samples: int = 1) -> np.ndarray:
    """``X`` as a C-contiguous float32 array of images ``(N, C, H, W)`` or table rows ``(N, D)``.

    Raises:
        DataError: wrong number of axes, too few samples, or NaN/inf values.
    """
    try:
        array = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: cannot be read as a float array ({exc}); pass a numpy array of numbers") from None
    if array.ndim == 3:
        raise DataError(f"{name}: has shape {array.shape}; grey images need a channel axis: use X[:, None] for (N, 1, H, W)")
    if array.ndim not in (2, 4):
        raise DataError(f"{name}: has shape {array.shape}; pass images (N, C, H, W) or table rows (N, D)")
    if array.shape[0] < min_samples:
        raise DataError(f"{name}: has {array.shape[0]} sample(s), at least {min_samples} are needed")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).reshape(len(array), -1).any(1).sum())
        raise DataError(f"{name}: {bad} sample(s) contain NaN or inf; drop or impute them first")
    return array


class BaselineDetector(BaseDetector):
    """The baselines' ``fit`` and ``decision_function`` on arrays of images or table rows, around two hooks.

    Subclasses take a ``contamination`` parameter (default 0.1: a share of outliers in (0, 0.5], or a
    PyThresh-style thresholder object), declare ``_parameter_rules`` and implement ``_fit(X, X_val)`` and
    ``_score(X)`` (higher = more anomalous); both receive arrays already checked by :func:`check_samples` (and, for
    ``_score``, with the per-sample shape seen by ``fit``).
    """

    _min_train_samples = 2
    _images_only = False

    def fit(self, X: Any, y: Any = None, X_val: Any = None) -> BaselineDetector:
        """Learn the normal class from ``X`` (normal samples only), then score ``X``.

        Args:
            X: ``(N, C, H, W)`` images in [0, 1] or ``(N, D)`` rows, normals only.
            y: ignored; present for API consistency.
            X_val: optional held-out normals of the same shape; the deep detectors keep the epoch with the lowest
                validation loss.  Never pass test data here.

        Returns:
            self, with ``decision_scores_`` (the anomaly scores of ``X``), ``threshold_`` and ``labels_``.
        """
        X = check_samples(X, "X", min_samples=self._min_train_samples)
        if self._images_only and X.ndim != 4:
            raise ConfigError(f"{type(self).__name__} models images (N, C, H, W); got table rows {X.shape}: use another method")
        if X_val is not None:
            X_val = check_samples(X_val, "X_val")
            if X_val.shape[1:] != X.shape[1:]:
                raise DataError(f"X_val: per-sample shape {X_val.shape[1:]} differs from X's {X.shape[1:]}")
        self._check_params()
        self.input_shape_ = tuple(X.shape[1:])
        self._fit(X, X_val)
        self.decision_scores_ = self._scores(X)
        self._process_decision_scores()
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of every sample: HIGHER = MORE ANOMALOUS.

        Args:
            X: samples of the shape seen by ``fit`` (``(N, *input_shape_)``).

        Returns:
            ``(N,)`` float64 array.

        Raises:
            NotFittedError: ``fit`` has not been called.
        """
        if not hasattr(self, "input_shape_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X_train) before scoring")
        X = check_samples(X, "X", min_samples=0)
        if tuple(X.shape[1:]) != self.input_shape_:
            raise DataError(f"X: per-sample shape {tuple(X.shape[1:])} differs from the training data's {self.input_shape_}")
        return self._scores(X)

    def _scores(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self._score(X), dtype=np.float64).reshape(len(X))

    # -- to implement ---------------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def resolve_architecture(architecture: str | None, X: np.ndarray) -> str:
    """The architecture name for data ``X``: ``None``/``"auto"`` picks one from the data's shape.

    Auto: tables -> ``mlp``; 8x8 images -> ``digits``; 32x32 -> ``cifar10``; other images -> ``mnist``.
    """
    if architecture in (None, "auto"):
        if X.ndim == 2:
            return "mlp"
        size = tuple(X.shape[2:])
        return {(8, 8): "digits", (32, 32): "cifar10"}.get(size, "mnist")
    if architecture not in ARCHITECTURES:
        raise UnknownNameError(f"unknown architecture {architecture!r}; choose auto or one of {', '.join(sorted(ARCHITECTURES))}")
    kind = ARCHITECTURES[architecture].kind
    if kind == "mlp" and X.ndim != 2:
        raise ConfigError(f"architecture {architecture!r} is for table rows (N, D); the data are images {X.shape}: use mnist, cifar10 or digits")
    if kind == "conv2d" and X.ndim != 4:
        raise ConfigError(f"architecture {architecture!r} is for images (N, C, H, W); the data are rows {X.shape}: use mlp or kdd")
    if kind == "conv3d":
        raise ConfigError(f"architecture {architecture!r} is for video clips; the baselines take images or tables")
    return architecture


def build_autoencoder(architecture: str, X: np.ndarray, model_options: dict[str, Any] | None = None):
    """The plain autoencoder (``variant="ae"``) of ``architecture``, sized for the per-sample shape of ``X``.

    Returns:
        a :class:`memae.MemAE` without memory; ``.encoder`` and ``.decoder`` are the paper's networks.
    """
    options = dict(model_options or {})
    if X.ndim == 2:
        options.setdefault("in_features", X.shape[1])
    else:
        options.setdefault("in_channels", X.shape[1])
        options.setdefault("input_size", tuple(X.shape[2:]))
    return build_model(architecture, "ae", **options)


@torch.no_grad()
def code_shape(encoder: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-sample shape of ``encoder``'s output for inputs of per-sample shape ``input_shape`` (one probe pass)."""
    was_training = encoder.training
    encoder.eval()  # BatchNorm: no statistics update, and a batch of one is fine
    shape = tuple(encoder(torch.zeros(1, *input_shape)).shape[1:])
    encoder.train(was_training)
    return shape


def check_unit_range(X: np.ndarray, owner: str, name: str = "X") -> None:
    """Raise :class:`DataError` unless every value of ``X`` lies in [0, 1] (images scaled to [0, 1])."""
    low, high = float(X.min()), float(X.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise DataError(f"{name}: {owner} needs images scaled to [0, 1], found values in [{low:.4g}, {high:.4g}]; divide uint8 images by 255")


class DeepDetector(BaselineDetector):
    """Shared plumbing of the deep baselines: seeding, device, and training through :func:`memae.training.train`.

    Subclasses implement ``_build(X) -> nn.Module``, a network with ``loss(x) -> Tensor`` (a scalar to minimise)
    and ``sample_errors(x) -> Tensor (B,)`` (the per-sample validation error, drawing no noise), and
    ``_score_batch(module, x) -> Tensor (B,)``.  A network whose ``needs_input_grad`` is True (DSEBM's) is trained,
    validated and scored with autograd on, since it differentiates with respect to its input.
    """

    _parameter_rules = {
        **BaseDetector._parameter_rules,
        "architecture": [InstanceOf(str, "a str")],  # resolve_architecture names the known ones
        "model_options": [InstanceOf(dict, "a dict"), None],
        "epochs": [Interval(Integral, 1, None, "left")],
        "batch_size": [Interval(Integral, 1, None, "left")],
        "lr": [Interval(Real, 0, None, "neither")],
        "device": [InstanceOf((str, torch.device), "a str or a torch.device")],
        "random_state": [InstanceOf(Integral, "an int"), None],
        "verbose": [InstanceOf((bool, np.bool_, Integral), "a bool or an int")],
    }

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31 - 1))
        return int(self.random_state)

    # -- subclass hooks -------------------------------------------------------------------------------------------
    def _build(self, X: np.ndarray) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_batch(self, module: nn.Module, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _after_training(self, X: np.ndarray) -> None:
        """Called once the best weights are in place (DAGMM fits its mixture on the whole training set here)."""

    # -- training -------------------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, X_val: np.ndarray | None) -> None:
        seed = self._seed()
        deterministic = torch.are_deterministic_algorithms_enabled()  # keep the user's determinism setting
        self.device_ = resolve_device(self.device)
        with drawing_from(seeded_generator(seed)):  # the initial weights depend on the seed alone
            module = self._build(X)
        self.module_ = module.to(self.device_)
        config = TrainConfig(epochs=int(self.epochs), batch_size=int(self.batch_size), lr=float(self.lr), seed=seed,
                             deterministic=deterministic, device=str(self.device_), progress=bool(self.verbose),
                             select="val_loss" if X_val is not None else "last")
        try:
            result = train(self.module_, X, X_val, config)
        except DivergenceError as exc:
            raise ConfigError(f"{type(self).__name__}: the training loss became {exc.loss} at epoch {exc.epoch}; "
                              f"lower lr (now {self.lr})") from None
        self.history_: list[dict[str, float]] = result.history
        self.best_epoch_ = int(result.best_epoch)
        self.module_.eval()
        self._after_training(X)

    def _batches(self, X: np.ndarray):
        for start in range(0, len(X), int(self.batch_size)):
            yield torch.from_numpy(X[start : start + int(self.batch_size)]).to(self.device_)

    def _score(self, X: np.ndarray) -> np.ndarray:
        self.module_.eval()
        scores = []
        input_grad = bool(getattr(self.module_, "needs_input_grad", False))  # DSEBM scores by dE/dx
        for batch in self._batches(X):
            with torch.set_grad_enabled(input_grad):
                scores.append(self._score_batch(self.module_, batch).detach().double().cpu())
        return torch.cat(scores).numpy()

