"""``MemAEDetector``: MemAE for tables as a scikit-learn estimator with PyOD's detector conventions.

>>> import numpy as np
>>> from memae.detector import MemAEDetector
>>> X = np.random.default_rng(0).normal(size=(200, 6))
>>> det = MemAEDetector(epochs=2, random_state=0).fit(X)
>>> det.labels_.shape, det.predict(X[:3]).shape, det.predict_proba(X[:3]).shape
((200,), (3,), (3, 2))

It is a PyOD ``BaseDetector`` (PyOD's own class when PyOD is installed, see :mod:`memae.detector_base`), so
``predict(X, return_confidence=True)``, ``predict_confidence``, ``predict_with_rejection`` and the rest behave as in
PyOD.  Conventions (PyOD's, which scikit-learn's outlier detectors invert): a higher
:meth:`~MemAEDetector.decision_function` means more anomalous, labels are 0 (inlier) / 1 (outlier), and
``threshold_`` is the ``1 - contamination`` quantile of the training scores.
"""

from __future__ import annotations

import copy
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Subset, TensorDataset
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6 (also lacks __sklearn_tags__ and ensure_all_finite)
    raise ImportError("memae.MemAEDetector needs scikit-learn >= 1.6; run: pip install -U 'scikit-learn>=1.6'") from None

from .data.splits import detector_holdout
from .data.tables import TablePreprocessor, check_finite, is_dataframe, with_table_input_tags
from .errors import CheckpointError, ConfigError, DataError
from .memory import resolve_shrink_threshold
from .detector_base import (BaseDetector, DetectorParameterError, InstanceOf, Interval, Options, Satisfies,
                            is_thresholder, positive_ints)
from .models.memae import DEFAULT_ENTROPY_WEIGHT
from .models.mlp import ACTIVATIONS
from .models.registry import VARIANTS, build_model
from .scoring.reconstruction import reconstruction_errors
from .training.checkpoint import PREPROCESSOR_KEY, load_checkpoint, save_checkpoint
from .training.distributed import resolve_device
from .config import SELECT_CRITERIA, TABLE_RECIPE, TrainConfig
from .training.trainer import drawing_from, seeded_generator, train

__all__ = ["MemAEDetector", "DetectorParameterError", "PROBA_METHODS"]

#: Accepted ``method`` values of :meth:`MemAEDetector.predict_proba`.
PROBA_METHODS = ("linear", "unify")
_DETECTOR_KEY = "detector"  # key of the detector's own state in the checkpoint's ``extra`` dict
_DETECTOR_FORMAT = "memae-detector-v1"
_SCORE_BATCH = 1024  # fixed, so that training and later scores go through the same batching
# The network of detectors saved before activation/batch_norm/dropout were parameters (files do not name them).
_NETWORK_BEFORE_PARAMETERS = {"activation": "tanh", "batch_norm": False, "dropout": 0.0}


class MemAEDetector(BaseDetector):
    """Memory-augmented autoencoder (Gong et al., ICCV 2019) as an outlier detector for tables.

    The network is the ``mlp`` architecture of :func:`memae.build_model` (fully connected, ReLU with BatchNorm and
    dropout, a memory of ``num_slots`` prototypes over the code).  It is trained on ``X`` (assumed mostly normal) to reconstruct the
    rows; the anomaly score of a row is its mean squared reconstruction error after preprocessing.

    Parameters
    ----------
    contamination : float in (0, 0.5] or thresholder object, default=0.1
        Expected share of outliers in the training data; sets ``threshold_`` and hence ``labels_``/``predict``.
        As in PyOD, an object with ``fit(scores)`` (setting ``labels_`` and ``thresh_``) and ``predict(scores)``,
        such as a PyThresh thresholder, chooses the labels itself.
    hidden : "auto" or list of int, default="auto"
        Encoder widths after the input, the code last (the decoder mirrors them).  ``"auto"`` halves the
        preprocessed width down to a small code (:func:`memae.models.registry.auto_hidden`).
    activation : {"tanh", "relu", "leaky_relu"}, default="relu"
        The hidden layers' non-linearity (the code and the output layer stay linear).
    batch_norm : bool, default=True
        ``BatchNorm1d`` after each hidden ``Linear`` (before the activation), as in PyOD's ``AutoEncoder``.  Its
        running statistics are recomputed over the training rows before each validation (``train.bn_recalibration``),
        so the evaluated network is the one that was trained.
    dropout : float in [0, 1), default=0.2
        Dropout after each hidden activation, as in PyOD's ``AutoEncoder``.  These three defaults are PyOD's layer
        at memae's own widths, chosen on the ADBench development tables for the AE and the MemAE variant
        (docs/results/table_network_study.md, table_network_memae.md); ``memae train`` on a table uses them too.
        ``activation="tanh", batch_norm=False, dropout=0.0`` is the paper's network (the default before
        2026-12-04; detectors saved before then load with it), and adding ``hidden=[64, 32]`` gives PyOD's.
    num_slots : int, default=50
        ``N``, the number of memory slots.
    shrink_threshold : float in [0, 1) or str, default="1/N"
        Hard-shrinkage threshold ``lambda``; ``"k/N"`` means ``k / num_slots``.  0 turns shrinkage off.
    entropy_weight : float, default=0.0002
        ``alpha`` of eq. 10, the weight of the entropy loss on the addressing weights.
    variant : str, default="memae"
        ``"memae"``, ``"ae"`` (no memory), ``"ae-l1"``, ``"memae-nonspar"``, ``"memae-noshrink"`` or
        ``"memae-noentropy"`` (the paper's ablations; :data:`memae.models.registry.VARIANTS`).
    epochs : int, default=50
        Passes over the training rows.
    batch_size : int, default=256
        Rows per Adam step.
    lr : float, default=3e-3
        Adam learning rate.  ``epochs``, ``batch_size`` and ``lr`` default to :data:`memae.config.TABLE_RECIPE`,
        which ``memae train`` uses on tables too; chosen on the ADBench development tables by mean rank over
        seeds with a leave-tables-out check (docs/results/detector_defaults_study.md).
    validation_fraction : float in [0, 1), default=0.1
        Share of the rows held out from the gradient steps; the weights of the epoch with the lowest
        reconstruction error on them are kept.  0 (or too few rows to hold any out) keeps the last epoch's
        weights.  Every row, held out or not, gets a training score in ``decision_scores_``.
    select : {"val_loss", "last", "separation"}, default="val_loss"
        Which epoch's weights are kept (``train.select``): the lowest validation reconstruction error, the last
        epoch, or the label-free ``separation`` of the held-out rows' scores (the standardised gap between the mean
        log score of the top ``contamination`` share and of the rest; 0.1 with a thresholder object).  Without a
        validation split, ``separation`` reads the training rows' scores.  On the ADBench development tables
        ``val_loss`` picked better epochs (docs/results/selection_study.md); ``separation`` suits data whose
        anomaly share is known and where the model learns the anomalies late.
    preprocessing : {"standard", "minmax"}, None or TablePreprocessor, default="standard"
        How the columns become the network's input, learnt on the training rows only: categorical columns
        (DataFrame columns that are not numeric, string columns of arrays) are one-hot encoded and numeric
        ones scaled to z-scores (``"standard"``) or to [0, 1] (``"minmax"``); ``None`` one-hot encodes but
        does not scale.  A (fitted or not) :class:`~memae.data.tables.TablePreprocessor` gives full control
        (which columns are categorical, ``handle_unknown``); a fresh copy of it is fitted.
    device : str, default="auto"
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the batch order; an int makes ``fit``
        repeatable (on the same device).  The global random states are left as they were.
    verbose : int, default=0
        0: silent; 1 or more: a tqdm progress bar per epoch.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training rows (higher = more anomalous).
    threshold_ : float
        ``percentile(decision_scores_, 100 * (1 - contamination))``.
    labels_ : ndarray of shape (n_samples,)
        ``(decision_scores_ > threshold_)`` as int: 1 = outlier.
    n_features_in_ : int
        Number of input columns (before one-hot encoding).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    model_ : memae.MemAE
        The trained network, in eval mode.
    preprocessor_ : TablePreprocessor
        The fitted preprocessing.
    history_ : list of dict
        Per-epoch ``train_loss``, ``train_rec``, ``train_entropy``, ``val_loss`` and ``seconds``.
    best_epoch_ : int
        The epoch whose weights were kept (0-based).

    See Also
    --------
    memae.build_model : the networks, for images and video too.
    sklearn.ensemble.IsolationForest : scikit-learn's convention is the opposite (lower = more abnormal, -1/1).

    References
    ----------
    D. Gong et al., "Memorizing Normality to Detect Anomaly: Memory-augmented Deep Autoencoder for
    Unsupervised Anomaly Detection", ICCV 2019.
    """

    _parameter_rules = {
        **BaseDetector._parameter_rules,
        "hidden": [Options({"auto"}), Satisfies(positive_ints, "a non-empty list of positive ints")],
        "activation": [Options(set(ACTIVATIONS))],
        "batch_norm": [InstanceOf((bool, np.bool_), "a bool")],
        "dropout": [Interval(Real, 0, 1, "left")],
        "num_slots": [Interval(Integral, 1, None, "left")],
        "shrink_threshold": [Interval(Real, 0, 1, "left"), InstanceOf(str, "a str such as '1/N'")],
        "entropy_weight": [Interval(Real, 0, None, "left")],
        "variant": [Options(VARIANTS)],
        "epochs": [Interval(Integral, 1, None, "left")],
        "batch_size": [Interval(Integral, 1, None, "left")],
        "lr": [Interval(Real, 0, None, "neither")],
        "validation_fraction": [Interval(Real, 0, 1, "left")],
        "select": [Options(SELECT_CRITERIA)],
        "preprocessing": [Options({"standard", "minmax"}), None,
                          InstanceOf(TablePreprocessor, "a memae.data.tables.TablePreprocessor")],
        "device": [InstanceOf((str, torch.device), "a str or a torch.device")],
        "random_state": [Interval(Integral, 0, 2**32 - 1, "both"),
                         InstanceOf(np.random.RandomState, "a numpy RandomState"), None],
        "verbose": [Interval(Integral, 0, None, "left"), InstanceOf((bool, np.bool_), "a bool")],
    }

    def __init__(
        self,
        *,
        contamination: float = 0.1,
        hidden: str | list[int] = "auto",
        activation: str = TABLE_RECIPE.activation,
        batch_norm: bool = TABLE_RECIPE.batch_norm,
        dropout: float = TABLE_RECIPE.dropout,
        num_slots: int = 50,
        shrink_threshold: float | str = "1/N",
        entropy_weight: float = DEFAULT_ENTROPY_WEIGHT,
        variant: str = "memae",
        epochs: int = TABLE_RECIPE.epochs,  # the table recipe `memae train` uses too (memae.config.TableRecipe)
        batch_size: int = TABLE_RECIPE.batch_size,
        lr: float = TABLE_RECIPE.lr,
        validation_fraction: float = 0.1,
        select: str = "val_loss",
        preprocessing: str | TablePreprocessor | None = "standard",
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.contamination = contamination
        self.hidden = hidden
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.num_slots = num_slots
        self.shrink_threshold = shrink_threshold
        self.entropy_weight = entropy_weight
        self.variant = variant
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.select = select
        self.preprocessing = preprocessing
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = with_table_input_tags(super().__sklearn_tags__())
        tags.target_tags.required = False
        return tags

    # -- fitting --------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> MemAEDetector:
        """Train the network on ``X`` and score its rows.

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features)
            Training rows (mostly normal).  NaN/inf raise :class:`~memae.errors.DataError`.
        y : ignored
            Present for API consistency.

        Returns
        -------
        self : MemAEDetector
        """
        self._check_params()
        X = self._validate_input(X, reset=True)
        if self.batch_norm and X.shape[0] < 2:
            raise DataError("batch_norm=True cannot train on 1 sample (BatchNorm needs 2 rows a batch); "
                            "pass more rows or set batch_norm=False")
        self.preprocessor_ = self._make_preprocessor()
        x = self.preprocessor_.fit_transform(X).astype(np.float32, copy=False)  # (n, D) after one-hot/scaling
        _check_output_finite(x, self.preprocessor_, "X")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = resolve_device(self.device)
        with drawing_from(seeded_generator(seed)):  # the initial weights depend on the seed alone
            self.model_ = self._build_model(x.shape[1])
        self.history_, self.best_epoch_ = self._train(x, seed, device)
        self.decision_scores_ = self._scores(x)
        self._process_decision_scores()
        return self

    def _check_params(self) -> None:
        """The declared constraints, then what parsing decides: a "k/N" shrink threshold and the device."""
        super()._check_params()
        resolve_shrink_threshold(self.shrink_threshold, int(self.num_slots))  # ConfigError for a bad "k/N"
        resolve_device(self.device)  # ConfigError for an unknown or unavailable device

    def _make_preprocessor(self) -> TablePreprocessor:
        spec = self.preprocessing
        if isinstance(spec, TablePreprocessor):
            return clone(spec)  # an unfitted copy: fit must not change the parameter
        return TablePreprocessor("auto", "none" if spec is None else spec)

    def _model_options(self, in_features: int) -> dict[str, Any]:
        """The :func:`build_model` arguments of this detector's mlp (a study extends them, then builds once)."""
        shrink = self.shrink_threshold
        return {
            "architecture": "mlp",
            "variant": self.variant,
            "in_features": int(in_features),
            "hidden": None if isinstance(self.hidden, str) else [int(h) for h in self.hidden],
            "activation": str(self.activation),
            "batch_norm": bool(self.batch_norm),
            "dropout": float(self.dropout),
            "num_slots": int(self.num_slots),
            "shrink_threshold": shrink if isinstance(shrink, str) else float(shrink),
            "entropy_weight": float(self.entropy_weight),
        }

    def _build_model(self, in_features: int):
        return build_model(**self._model_options(in_features))

    def _train(self, x: np.ndarray, seed: int, device: torch.device) -> tuple[list[dict[str, float]], int]:
        """Adam on eq. 10; with a validation split, keep the weights of the best validation epoch."""
        train_rows, val_rows = detector_holdout(len(x), self.validation_fraction, seed)
        share = float(self.contamination) if isinstance(self.contamination, Real) else 0.1
        config = TrainConfig(
            epochs=int(self.epochs), batch_size=int(self.batch_size), lr=float(self.lr), seed=seed,
            deterministic=torch.are_deterministic_algorithms_enabled(),  # the user's setting, as it was
            device=str(device), progress=bool(self.verbose), select=self.select, select_share=share,
        )
        rows = TensorDataset(torch.from_numpy(np.ascontiguousarray(x)))  # shares x's memory; fit has checked that it is finite
        if len(val_rows) < 1 or len(train_rows) < 1:
            if self.select != "separation":
                result = train(self.model_, rows, None, config, restore_best=False)  # no validation: the last epoch
                return result.history, int(result.history[-1]["epoch"])
            result = train(self.model_, rows, None, config, select_data=rows)  # the unlabelled training rows' scores
            return result.history, int(result.best_epoch)
        # The split is two index arrays: each batch is gathered from x by the DataLoader, so fit holds no copy of the
        # table per split.  train() ends with the best validation epoch's weights, kept in memory (no files needed).
        result = train(self.model_, Subset(rows, train_rows), Subset(rows, val_rows), config)
        return result.history, int(result.best_epoch)

    def _process_decision_scores(self) -> MemAEDetector:
        """The base's ``threshold_`` and ``labels_``, plus the score range that :meth:`save` stores."""
        super()._process_decision_scores()
        scores = self.decision_scores_
        self._score_min, self._score_max = float(np.min(scores)), float(np.max(scores))
        return self

    # -- scoring --------------------------------------------------------------------------------------------

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of every row: the mean squared reconstruction error (higher = more anomalous).

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features_in_)
            The same columns as at fit time.

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        return self._scores(self._transform(X))

    def predict_proba(self, X: Any, method: str = "linear", return_confidence: bool = False) -> Any:
        """Outlier probability per row, as PyOD computes it (this checks ``method`` first, then defers to the base).

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features_in_)
        method : {"linear", "unify"}, default="linear"
            ``"linear"``: the score min-max scaled with the training scores' range, clipped to [0, 1];
            ``"unify"``: ``erf((score - mean) / (std * sqrt(2)))`` clipped to [0, 1], with the training
            scores' mean and std (Kriegel et al., "Interpreting and Unifying Outlier Scores", SDM 2011).
        return_confidence : bool, default=False
            Also return :meth:`predict_confidence`.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column 0: probability of an inlier, column 1: of an outlier; rows sum to 1.  With
            ``return_confidence``, the tuple ``(proba, confidence)``.

        Raises
        ------
        ConfigError
            (a ``ValueError``, as in PyOD) for an unknown ``method``.
        """
        check_is_fitted(self)
        if method not in PROBA_METHODS:
            raise ConfigError(f"unknown predict_proba method {method!r}; choose one of {', '.join(PROBA_METHODS)}")
        if not hasattr(X, "shape"):  # PyOD's base reads X.shape: give lists the same treatment as arrays
            X = check_array(X, dtype=None, ensure_all_finite=False, estimator=self)
        return super().predict_proba(X, method=method, return_confidence=return_confidence)

    @property
    def model(self) -> Any:
        """The trained network (``model_``), under the name PyOD's deep detectors use; None before ``fit``."""
        return getattr(self, "model_", None)

    # -- input handling -------------------------------------------------------------------------------------

    def _validate_input(self, X: Any, reset: bool) -> Any:
        """Check shape, column count/names and finiteness; returns a DataFrame as is or a 2-D array."""
        what = "X" if reset else "X (to score)"
        if not is_dataframe(X):
            # dtype=None keeps string/object columns for one-hot encoding; NaN/inf are reported below by column
            X = check_array(X, dtype=None, ensure_all_finite=False, estimator=self)
        elif X.shape[0] == 0:
            raise DataError(f"{what}: the DataFrame has 0 rows; pass at least one row")
        try:  # sets (fit) or checks (scoring) n_features_in_ and feature_names_in_, with scikit-learn's messages
            validate_data(self, X, reset=reset, skip_check_array=True)
        except ValueError as exc:
            message = str(exc)
            if "\n" not in message:  # "X has 4 features, but MemAEDetector is expecting 5 features as input."
                message = message.rstrip(".") + "; pass the same columns as at fit time"
            raise DataError(message) from None
        _check_input_finite(X, what)
        return X

    def _transform(self, X: Any) -> np.ndarray:
        X = self._validate_input(X, reset=False)
        x = self.preprocessor_.transform(X).astype(np.float32, copy=False)  # (n, D)
        _check_output_finite(x, self.preprocessor_, "X (to score)")
        return x

    def _scores(self, x: np.ndarray) -> np.ndarray:
        """Mean squared reconstruction error per row of the preprocessed ``x`` (n, D): float64 (n,)."""
        device = next(self.model_.parameters()).device
        return reconstruction_errors(self.model_, x, batch_size=_SCORE_BATCH, device=device)

    # -- persistence ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted detector to one file (atomically: temp file, then rename).

        The file is a memae checkpoint (plain tensors, numbers and strings; read with ``weights_only=True``):
        ``model_config`` + ``model`` rebuild the network, ``extra`` holds ``threshold``, ``preprocessor`` and the
        detector's parameters and training scores, so ``memae score`` can also score tables with it.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        check_is_fitted(self)
        if is_thresholder(self.contamination):
            raise ConfigError("save stores a float contamination only (the file holds plain data, no objects); "
                              "refit with contamination=<share of outliers> to save this detector")
        names = getattr(self, "feature_names_in_", None)
        detector = {
            "format": _DETECTOR_FORMAT,
            "params": _plain_params(self.get_params(deep=False)),
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": None if names is None else [str(n) for n in names],
            "decision_scores": torch.as_tensor(np.asarray(self.decision_scores_, dtype=np.float64)),
            "score_stats": {"mean": float(self._mu), "std": float(self._sigma), "min": self._score_min, "max": self._score_max},
            "best_epoch": int(self.best_epoch_),
        }
        extra = {
            "threshold": float(self.threshold_),
            "error": "mse",
            "contamination": float(self.contamination),
            PREPROCESSOR_KEY: self.preprocessor_.state_dict(),  # also read by `memae score`
            _DETECTOR_KEY: detector,
        }
        model = copy.deepcopy(self.model_).cpu()  # CPU tensors: a file saved on a GPU loads anywhere
        return save_checkpoint(path, model, None, epoch=self.best_epoch_, history=self.history_, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> MemAEDetector:
        """Read a detector written by :meth:`save`; only tensors and plain data are unpickled.

        Parameters
        ----------
        path : path-like
        device : str, optional
            Where to put the network; default: the saved ``device`` parameter.

        Returns
        -------
        MemAEDetector
            Fitted; its ``decision_function`` equals the saved detector's.
        """
        state = load_checkpoint(path, map_location="cpu")
        detector = state.get("extra", {}).get(_DETECTOR_KEY)
        if not isinstance(detector, dict) or detector.get("format") != _DETECTOR_FORMAT:
            raise CheckpointError(
                f"{path} is a memae checkpoint but not a saved MemAEDetector; load it with memae.training.load_model"
            )
        # a detector saved before the network was a parameter was trained with the paper's network
        params = {**_NETWORK_BEFORE_PARAMETERS, **detector["params"]}
        if device is not None:
            params["device"] = device
        try:
            preprocessor = TablePreprocessor.from_state_dict(state["extra"][PREPROCESSOR_KEY])
        except KeyError:
            raise CheckpointError(f"{path} has no preprocessor state; save the detector again") from None
        if isinstance(params.get("preprocessing"), dict):
            # a TablePreprocessor parameter: the fitted one was fitted from an unfitted clone of it, and its state
            # keeps every parameter, so cloning it back gives the parameter
            params["preprocessing"] = clone(preprocessor)
        est = cls(**params)
        try:
            est.model_ = build_model(**state["model_config"])
            est.model_.load_state_dict(state["model"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(f"{path} does not match its model config: {str(exc).splitlines()[0][:160]}") from None
        est.model_.to(resolve_device(est.device)).eval()
        est.preprocessor_ = preprocessor
        est.n_features_in_ = int(detector["n_features_in"])
        if detector["feature_names_in"] is not None:
            est.feature_names_in_ = np.asarray(detector["feature_names_in"], dtype=object)
        est.history_ = [dict(r) for r in state["history"]]
        est.best_epoch_ = int(detector["best_epoch"])
        est.decision_scores_ = detector["decision_scores"].numpy().astype(np.float64)
        est._process_decision_scores()
        est.threshold_ = float(state["extra"]["threshold"])  # the saved value, not a recomputation
        est.labels_ = (est.decision_scores_ > est.threshold_).astype(int)
        return est


# -- helpers ------------------------------------------------------------------------------------------------------


def _check_input_finite(X: Any, what: str) -> None:
    """NaN/inf in a numeric column: :class:`DataError` naming the row and column (categorical NaN: the
    preprocessor's own message)."""
    message = f"{what} contains NaN or inf"
    if is_dataframe(X):
        import pandas as pd

        types = pd.api.types
        cols = [c for c in X.columns if types.is_numeric_dtype(X[c].dtype) and not types.is_bool_dtype(X[c].dtype)]
        if cols:
            values = X[cols].to_numpy(dtype=np.float64, na_value=np.nan)
            check_finite(values, message, [str(c) for c in cols])
        return
    if X.dtype.kind in "iufc":
        check_finite(X, message)
        return
    try:  # an object array of numbers: check it too; string columns go to the one-hot encoder
        values = X.astype(np.float64)
    except (TypeError, ValueError):
        return
    check_finite(values, message)


def _check_output_finite(x: np.ndarray, preprocessor: TablePreprocessor, what: str) -> None:
    if not np.isfinite(x).all():
        check_finite(x, f"{what} contains NaN or inf after preprocessing", list(preprocessor.get_feature_names_out()))


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    """Constructor parameters as str/int/float/list/dict/None (what ``weights_only`` loading accepts)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, BaseEstimator):  # a TablePreprocessor: load() clones the fitted one instead
            value = {"kind": type(value).__name__, **_plain_params(value.get_params(deep=False))}
        elif isinstance(value, type) and issubclass(value, np.generic) or isinstance(value, np.dtype):
            value = np.dtype(value).name
        elif isinstance(value, np.random.RandomState):
            value = None  # the fitted state no longer depends on it
        elif isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, (list, tuple)):  # hidden widths, categorical columns
            value = [v.item() if isinstance(v, np.generic) else v for v in value]
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out

