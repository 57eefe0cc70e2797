"""The config schema: one typed dataclass per section, and the names a setting may take.

A setting that takes one of a few names is annotated ``Literal[...]``; :func:`check_choices` reads those annotations
(every section's ``validate`` calls it, and the loader checks each key it reads), so a loaded config is a valid one.
Every default is stated once, here or, for model options left at None, by the architecture in
:mod:`memae.models.registry`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import ConfigError

__all__ = [
    "Select", "SelectData", "EpochLog", "ScoreError", "ScoreMode", "DataProtocol", "Resample", "Similarity",
    "Activation", "Padding", "OutputActivation", "SELECT_CRITERIA", "SCORE_ERRORS", "SCORE_MODES", "check_choices",
    "TrainConfig", "ModelOptions", "ModelSection", "DataSection", "ScoreSection", "ReproduceSection",
    "ExperimentConfig",
]


# The names a setting may take, each listed once; the fields below are annotated with them.
# How a training run chooses the epoch it keeps.  val_loss: lowest reconstruction loss on the validation split
# (the authors' rule); last: the last epoch; separation: label-free, highest standardised gap between the mean log
# score of the top `select_share` of the selection data and that of the rest (see memae.training.selection).
Select = Literal["val_loss", "last", "separation"]
SelectData = Literal["val", "test"]
EpochLog = Literal["csv", "tensorboard"]
# Per-sample reconstruction error: mse (the paper's squared error) | mae (the authors' video code).
ScoreError = Literal["mse", "mae"]
# How a video clip's score becomes frame scores: center = the clip's middle frame (the authors' code), mean = every
# frame of the clip (scoring.video implements both).
ScoreMode = Literal["center", "mean"]
# images: paper | official-test; kdd: paper | dagmm-code (which protocol fits which dataset: memae.data.experiment)
DataProtocol = Literal["paper", "official-test", "dagmm-code"]
Resample = Literal["bilinear", "area"]  # Pillow's bilinear or box filter (memae.data.video.RESAMPLE_MODES)
# Model option names, the same for every architecture (tests/test_config_layouts.py checks them against the models).
Similarity = Literal["dot", "cosine"]
Activation = Literal["relu", "leaky_relu", "tanh"]
Padding = Literal["same", "valid"]
OutputActivation = Literal["none", "sigmoid", "tanh"]

SELECT_CRITERIA: tuple[str, ...] = typing.get_args(Select)
SCORE_ERRORS: tuple[str, ...] = typing.get_args(ScoreError)
SCORE_MODES: tuple[str, ...] = typing.get_args(ScoreMode)


def choices_of(annotation: Any) -> tuple[tuple[Any, ...], bool] | None:
    """``(allowed values, None allowed)`` of a ``Literal[...]`` or ``Literal[...] | None`` annotation, else None."""
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation), False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        literals = [a for a in args if typing.get_origin(a) is Literal]
        if len(literals) == 1 and len(args) == 2 and type(None) in args:
            return typing.get_args(literals[0]), True
    return None


def check_choice(value: Any, allowed: tuple[Any, ...], key: str) -> Any:
    if isinstance(value, str) and value in allowed:
        return value
    raise ConfigError(f"{key} must be one of {', '.join(map(str, allowed))}, got {value!r}")


def check_choices(section: Any, prefix: str) -> None:
    """Every ``Literal``-annotated field of the config dataclass ``section`` holds one of its names (sub-sections
    are left to their own ``validate``); ``prefix`` names the section in the one-line :class:`ConfigError`."""
    hints = typing.get_type_hints(type(section))
    for f in dataclasses.fields(section):
        choices = choices_of(hints[f.name])
        value = getattr(section, f.name)
        if choices is not None and not (value is None and choices[1]):
            check_choice(value, choices[0], f"{prefix}.{f.name}" if prefix else f.name)


@dataclass(frozen=True)
class TableRecipe:
    """How a table model trains when nothing says otherwise: ``MemAEDetector``'s defaults and ``memae train`` on a
    table (``data.dataset: table`` without ``--config``) both read them here, so the two never drift apart.

    Chosen on the ADBench development tables by mean rank over 3 seeds, with a leave-tables-out check
    (``benchmarks/detector_defaults_study.py``, docs/results/detector_defaults_study.md).  ``TrainConfig``'s own
    defaults stay the paper's (lr 1e-4), which suits the paper's image and video networks, not a small table MLP.
    """

    epochs: int = 50
    batch_size: int = 256
    lr: float = 3e-3
    # The mlp's hidden layers: PyOD's AutoEncoder layer (Linear -> BatchNorm1d -> ReLU -> Dropout 0.2) at memae's own
    # widths.  Chosen by mean rank over 3 seeds with a leave-tables-out check, for both the AE and the MemAE variant
    # and on both ADBench blocks (docs/results/table_network_study.md, table_network_memae.md).  The paper's
    # network (tanh, no BatchNorm, no dropout) stays the mlp architecture's own default, which Table 3 (KDDCUP99) uses.
    activation: str = "relu"
    batch_norm: bool = True
    dropout: float = 0.2

    #: Which section of the experiment config each recipe field belongs to.
    _SECTIONS = {"epochs": "train", "batch_size": "train", "lr": "train",
                 "activation": "model.options", "batch_norm": "model.options", "dropout": "model.options"}

    def overrides(self, network: bool = True) -> list[str]:
        """The recipe as ``section.key=value`` overrides (put before the user's, so that theirs win); ``network=False``
        leaves out the layer settings (for a named architecture other than ``mlp``, which has its own)."""
        return [f"{self._SECTIONS[f.name]}.{f.name}={str(getattr(self, f.name)).lower()}"
                for f in dataclasses.fields(self) if network or self._SECTIONS[f.name] == "train"]


TABLE_RECIPE = TableRecipe()


@dataclass
class TrainConfig:
    """Optimisation settings (paper defaults: Adam, lr 1e-4)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-4  # paper and authors' code
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # 0 = off
    # Stop when the monitored value (see `select`) has not improved for this many epochs (0 = run all epochs).
    patience: int = 0
    # Before each validation, recompute every BatchNorm layer's running statistics over the training set with the
    # epoch's final weights (as torch.optim.swa_utils.update_bn).  Why: running averages lag the weights, and the
    # memory's softmax amplifies the shifted query, so without it the eval-mode model is not the one that was trained
    # (on MNIST development data MemAE's eval-mode validation error ran up to 98 % above it).  Costs one forward pass over the training set per epoch.
    bn_recalibration: bool = True
    seed: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms; slower, bitwise repeatable
    device: str = "auto"  # auto: CUDA when present, else CPU
    num_workers: int = 0
    progress: bool = True
    # Hard shrinkage ramps up from 0 to its lambda over this many epochs (0 = the paper: full lambda from the start).
    # Why: with a fresh memory almost every attention weight lies below lambda (a 2000-slot softmax starts near
    # 1/2000 < 0.0025), so shrinkage zeroes whole queries, their gradient vanishes and training stalls for epochs.
    # Validation and the finished model always use the full lambda.
    shrink_warmup_epochs: int = 0
    # Which epoch's weights the run keeps (see SELECT_CRITERIA).  "separation" reads no labels: the standardised gap
    # between the mean log score of the top `select_share` of the selection data and that of the rest.
    select: Select = "val_loss"
    select_share: float = 0.1  # share of the selection data assumed anomalous (the protocol's contamination)
    # Selection data for "separation": "val" = the held-out validation split (unlabelled; for a contaminated training
    # set it holds anomalies too), or "test" = the unlabelled test inputs (transductive; only where the protocol
    # already reads the test scores, e.g. KDD's top-20 % threshold).
    select_data: SelectData = "val"
    # Epoch log: "csv" (history.csv in the run folder, always written) or "tensorboard" (TensorBoard event files in
    # RUN/tensorboard as well, the way anomalib and Lightning users watch runs; needs the tensorboard package).
    log: EpochLog = "csv"

    def validate(self) -> None:
        check_choices(self, "train")
        if self.epochs < 1:
            raise ConfigError(f"train.epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"train.batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")
        if self.patience < 0:
            raise ConfigError(f"train.patience must be >= 0 (0 = off), got {self.patience}")
        if self.patience and self.select == "last":
            raise ConfigError("train.patience stops on the monitored value, which train.select=last does not have; "
                              "choose train.select=val_loss or set train.patience=0")
        if self.shrink_warmup_epochs < 0:
            raise ConfigError(f"train.shrink_warmup_epochs must be >= 0, got {self.shrink_warmup_epochs}")
        if not 0 < self.select_share < 1:
            raise ConfigError(f"train.select_share must be in (0, 1), got {self.select_share}")


@dataclass
class ModelOptions:
    """The options :func:`memae.models.build_model` accepts, one field each; None = the architecture's default.

    The model registry reads its option list from this class, so an option is named in one place.  Values are
    checked for type and name here; the shrinkage threshold, which depends on the architecture's memory size, is
    checked by :func:`memae.models.check_model_section` when an experiment loads its config.
    """

    num_slots: int | None = None  # N, memory slots
    shrink_threshold: float | str | None = None  # lambda: a number or "k/N"
    similarity: Similarity | None = None  # dot (authors' code) | cosine (paper eq. 5; needs a temperature)
    temperature: float | None = None  # None: the memory module's default for the similarity (1.0 dot, 0.1 cosine)
    entropy_weight: float | None = None  # alpha of eq. 10 (memae, memae-noshrink)
    latent_l1_weight: float | None = None  # ae-l1 only
    flatten_latent: bool | None = None  # images: one memory query per image (the paper's) or one per position
    in_channels: int | None = None
    input_size: list[int] | None = None  # conv: [H, W] or [T, H, W]; video takes it from data.clip_len/frame_size
    width: float | None = None  # conv: multiplies the hidden channel counts (the memory dim follows the last)
    in_features: int | None = None  # mlp input width (None: the data's)
    hidden: list[int] | None = None  # mlp widths after the input, the code last
    activation: Activation | None = None
    batch_norm: bool | None = None  # mlp: BatchNorm1d in each hidden layer (PyOD's AutoEncoder has it; the paper's net not)
    dropout: float | None = None  # mlp: dropout after each hidden activation, in [0, 1) (PyOD's AutoEncoder: 0.2)
    padding: Padding | None = None  # conv
    code_dim: int | None = None  # conv: a fully connected bottleneck of this many numbers after the trunk
    first_kernel: int | None = None  # conv: the first encoder layer's kernel (the paper's "Conv2(1,2,16)" reads as 1)
    output_activation: OutputActivation | None = None  # none (linear, the authors' code) | sigmoid (inputs in [0, 1]) | tanh ([-1, 1])

    def given(self) -> dict[str, Any]:
        """The options this config sets (not None): the keyword arguments for ``build_model``."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def validate(self) -> None:
        check_choices(self, "model.options")
        for name in ("num_slots", "in_channels", "in_features", "code_dim", "first_kernel"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"model.options.{name} must be >= 1, got {value}")
        for name in ("input_size", "hidden"):
            value = getattr(self, name)
            if value is not None and (not value or min(value) < 1):
                raise ConfigError(f"model.options.{name} must be a list of positive integers, got {value}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"model.options.dropout must be in [0, 1), got {self.dropout}")
        for name in ("width", "temperature"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"model.options.{name} must be > 0, got {value}")
        for name in ("entropy_weight", "latent_l1_weight"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ConfigError(f"model.options.{name} must be >= 0, got {value}")


@dataclass
class ModelSection:
    architecture: str = "digits"  # see memae.models.list_architectures; `memae train` picks one from the data if unset
    variant: str = "memae"  # ae | ae-l1 | memae-nonspar | memae-noshrink | memae-noentropy | memae
    options: ModelOptions = field(default_factory=ModelOptions)

    def validate(self) -> None:
        check_choices(self, "model")
        self.options.validate()


@dataclass
class DataSection:
    # digits | mnist | fashion-mnist | idx | cifar10 | folder | table | kdd; video: ped1 | ped2 | avenue | shanghaitech
    # | videos (a folder of your own footage, memae.data.footage)
    dataset: str = "digits"
    root: str | None = None  # folder or file of the data; never downloaded
    normal_class: int = 0  # one-class image protocol: this class is normal
    anomaly_fraction: float = 0.3  # share of anomalies in the test set (paper 4.1)
    val_fraction: float = 0.1  # held out from the training normals for best-epoch selection
    # images: paper (official train and test pooled) | official-test (test images from the official test set only);
    # kdd: paper (DAGMM's text) | dagmm-code (danieltan07/dagmm); see data.experiment
    protocol: DataProtocol = "paper"
    label_column: str | None = None  # tables: optional label column (1/True/'anomaly' = anomalous)
    grey: bool = True  # folder images: grey or RGB
    image_size: list[int] | None = None  # folder images: resize to [H, W]
    # Video benchmarks (ped1 | ped2 | avenue | shanghaitech): 16-frame grey clips in [-1, 1].  For video,
    # val_fraction is the last share of every *training* video (at least one clip), held out for best-epoch selection.
    labels: str | None = None  # ground truth: None = the benchmark's default; avenue: volLabel | mnad; or a file
    frame_size: list[int] = field(default_factory=lambda: [256, 256])  # [h, w] the frames are resized to (paper)
    clip_len: int = 16
    train_stride: int = 1  # step between training clip starts (2 = every other clip)
    val_stride: int = 1
    test_stride: int = 1  # 1 scores every frame (center mode)
    max_train_clips: int = 0  # > 0: keep this many training clips, evenly spaced (0 = all)
    resample: Resample = "bilinear"
    cache_dir: str | None = None  # decoded-frame cache; None = $XDG_CACHE_HOME/memae/frames or ~/.cache/memae/frames
    max_train_videos: int = 0  # > 0: only the first k training videos (smoke runs)
    max_test_videos: int = 0  # > 0: only the first k test videos (smoke runs)
    # dataset videos (your own footage): resample every video file to this frame rate by its timestamps, so that
    # motion has one speed across cameras (None = each video at its own rate; frame folders are never resampled)
    fps: float | None = None

    def validate(self) -> None:
        check_choices(self, "data")
        if not 0 < self.anomaly_fraction < 1:
            raise ConfigError(f"data.anomaly_fraction must be in (0, 1), got {self.anomaly_fraction}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in [0, 1), got {self.val_fraction}")
        if len(self.frame_size) != 2 or min(self.frame_size) < 1:
            raise ConfigError(f"data.frame_size must be [height, width], got {self.frame_size}")
        for key in ("clip_len", "train_stride", "val_stride", "test_stride"):
            if getattr(self, key) < 1:
                raise ConfigError(f"data.{key} must be >= 1, got {getattr(self, key)}")
        if self.fps is not None and not self.fps > 0:
            raise ConfigError(f"data.fps must be > 0 (or null: each video at its own rate), got {self.fps}")
        for key in ("max_train_clips", "max_train_videos", "max_test_videos"):
            if getattr(self, key) < 0:
                raise ConfigError(f"data.{key} must be >= 0 (0 = all), got {getattr(self, key)}")


@dataclass
class ScoreSection:
    error: ScoreError = "mse"  # mse (paper) | mae (authors' video code); video: the error of models with a memory
    batch_size: int = 256  # samples (video: clips) per model call
    contamination: float = 0.1  # share of training-normal scores above the stored threshold (for predicted labels)
    # Video models without a memory (ae, ae-l1): the authors score their AE by squared error (on [0, 1] frames; a
    # range change is a constant factor that per-video min-max cancels, so mse on [-1, 1] ranks frames the same way).
    ae_error: ScoreError = "mse"
    mode: ScoreMode = "center"  # video

    def validate(self) -> None:
        check_choices(self, "score")
        if not 0 < self.contamination <= 0.5:
            raise ConfigError(f"score.contamination must be in (0, 0.5], got {self.contamination}")
        if self.batch_size < 1:
            raise ConfigError(f"score.batch_size must be >= 1, got {self.batch_size}")


@dataclass
class ReproduceSection:
    """Settings only ``memae reproduce`` reads (the video experiments); ``memae train`` ignores them."""

    preset: str | None = None  # the preset (name or file) the run was made from: names the run folder and results.md
    fig7_num_slots: list[int] = field(default_factory=lambda: [100, 500, 1000, 2000, 3000])  # Figure 7's memory sizes

    def validate(self) -> None:
        check_choices(self, "reproduce")
        if not self.fig7_num_slots or min(self.fig7_num_slots) < 1:
            raise ConfigError(f"reproduce.fig7_num_slots must be positive integers, got {self.fig7_num_slots}")


@dataclass
class ExperimentConfig:
    name: str = "run"
    output_dir: str = "runs"
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreSection = field(default_factory=ScoreSection)
    reproduce: ReproduceSection = field(default_factory=ReproduceSection)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        """Check every section's values (types were checked when the config was built)."""
        check_choices(self, "")
        self.model.validate()
        self.data.validate()
        self.train.validate()
        self.score.validate()
        self.reproduce.validate()
