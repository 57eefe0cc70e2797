"""Experiment configs: typed dataclasses, loaded from YAML, overridden by ``key=value`` flags.

Unknown keys and values of the wrong type are errors that name the key.  The resolved config is saved next to the
results (``config.yaml``) and inside every checkpoint.

Example YAML::

    name: mnist-memae
    model: {architecture: mnist, variant: memae, options: {num_slots: 100}}
    data: {dataset: mnist, root: ../shared/datasets/mnist, normal_class: 0}
    train: {epochs: 30, batch_size: 64, lr: 0.0001, seed: 0}
    score: {error: mse}
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
import shutil
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .io import write_text

__all__ = [
    "TrainConfig", "SELECT_CRITERIA", "ModelSection", "DataSection", "ScoreSection", "ExperimentConfig",
    "load_config", "config_from_dict", "apply_overrides", "save_config", "new_run_dir", "fresh_run_dir", "parse_int_list",
]


# How a training run chooses the epoch it keeps.  val_loss: lowest reconstruction loss on the validation split
# (the authors' rule); last: the last epoch; separation: label-free, highest standardised gap between the mean log
# score of the top `select_share` of the selection data and that of the rest (see memae.training.selection).
SELECT_CRITERIA = ("val_loss", "last", "separation")


@dataclass
class TrainConfig:
    """Optimisation settings (paper defaults: Adam, lr 1e-4)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-4  # paper and authors' code
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # 0 = off
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
    select: str = "val_loss"
    select_share: float = 0.1  # share of the selection data assumed anomalous (the protocol's contamination)
    # Selection data for "separation": "val" = the held-out validation split (unlabelled; for a contaminated training
    # set it holds anomalies too), or "test" = the unlabelled test inputs (transductive; only where the protocol
    # already reads the test scores, e.g. KDD's top-20 % threshold).
    select_data: str = "val"
    # Epoch log: "csv" (history.csv in the run folder, always written) or "tensorboard" (TensorBoard event files in
    # RUN/tensorboard as well, the way anomalib and Lightning users watch runs; needs the tensorboard package).
    log: str = "csv"

    def validate(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"train.epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"train.batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")
        if self.shrink_warmup_epochs < 0:
            raise ConfigError(f"train.shrink_warmup_epochs must be >= 0, got {self.shrink_warmup_epochs}")
        if self.select not in SELECT_CRITERIA:
            raise ConfigError(f"train.select must be one of {', '.join(SELECT_CRITERIA)}, got {self.select!r}")
        if not 0 < self.select_share < 1:
            raise ConfigError(f"train.select_share must be in (0, 1), got {self.select_share}")
        if self.log not in ("csv", "tensorboard"):
            raise ConfigError(f"train.log must be csv or tensorboard, got {self.log!r}")
        if self.select_data not in ("val", "test"):
            raise ConfigError(f"train.select_data must be val or test, got {self.select_data!r}")


@dataclass
class ModelSection:
    architecture: str = "digits"
    variant: str = "memae"
    options: dict[str, Any] = field(default_factory=dict)  # build_model overrides, e.g. num_slots, shrink_threshold


@dataclass
class DataSection:
    dataset: str = "digits"  # digits | mnist | fashion-mnist | idx | cifar10 | folder | table | kdd
    root: str | None = None  # folder or file of the data; never downloaded
    normal_class: int = 0  # one-class image protocol: this class is normal
    anomaly_fraction: float = 0.3  # share of anomalies in the test set (paper 4.1)
    val_fraction: float = 0.1  # held out from the training normals for best-epoch selection
    protocol: str = "paper"  # kdd: paper (DAGMM's text) | dagmm-code (danieltan07/dagmm); see data.experiment
    label_column: str | None = None  # tables: optional label column (1/True/'anomaly' = anomalous)
    grey: bool = True  # folder images: grey or RGB
    image_size: list[int] | None = None  # folder images: resize to [H, W]

    def validate(self) -> None:
        if not 0 < self.anomaly_fraction < 1:
            raise ConfigError(f"data.anomaly_fraction must be in (0, 1), got {self.anomaly_fraction}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.protocol not in ("paper", "dagmm-code"):
            raise ConfigError(f"data.protocol must be paper or dagmm-code, got {self.protocol!r}")


@dataclass
class ScoreSection:
    error: str = "mse"  # mse (paper) | mae (authors' video code)
    batch_size: int = 256
    contamination: float = 0.1  # share of training-normal scores above the stored threshold (for predicted labels)

    def validate(self) -> None:
        if self.error not in ("mse", "mae"):
            raise ConfigError(f"score.error must be mse or mae, got {self.error!r}")
        if not 0 < self.contamination <= 0.5:
            raise ConfigError(f"score.contamination must be in (0, 0.5], got {self.contamination}")
        if self.batch_size < 1:
            raise ConfigError(f"score.batch_size must be >= 1, got {self.batch_size}")


@dataclass
class ExperimentConfig:
    name: str = "run"
    output_dir: str = "runs"
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreSection = field(default_factory=ScoreSection)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Check/convert ``value`` against a dataclass field annotation (str form under postponed evaluation)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if annotation is Any:
        return value
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return dict(value)
    if origin is list or annotation is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        inner = args[0] if args else Any
        return [_coerce(v, inner, f"{key}[]") for v in value]
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key} must be a string, got {value!r}")
    return value


def build_dataclass(cls: type, values: dict[str, Any], prefix: str) -> Any:
    """An instance of the config dataclass ``cls`` from a mapping, checking every key and type (``prefix`` names
    the section in error messages)."""
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix or 'config'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        where = f"in section '{prefix}'" if prefix else "at the top level"
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)} {where}; valid keys: {', '.join(fields)}")
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_dataclass(hint, value or {}, key)
        else:
            kwargs[name] = _coerce(value, hint, key)
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any] | None) -> ExperimentConfig:
    """Build and validate a config; every bad key or value raises :class:`ConfigError` before any work starts."""
    config = build_dataclass(ExperimentConfig, values or {}, "")
    config.data.validate()
    config.train.validate()
    config.score.validate()
    return config


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` strings (values parsed as YAML) to a nested dict, returning a new dict."""
    result = yaml.safe_load(yaml.safe_dump(values or {}))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. train.epochs=5")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = value
    return result


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML file's top-level mapping; a missing file, bad syntax or a non-mapping is a one-line ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass a YAML file such as src/memae/experiments/configs/demo.yaml")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}; fix the syntax") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections (model, data, train, score)")
    return values


def load_config(path: str | os.PathLike[str] | None = None, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read a YAML config (or start from the defaults), apply overrides, validate every key."""
    values = read_yaml(path) if path is not None else {}
    return config_from_dict(apply_overrides(values, overrides or []))


def save_config(config: ExperimentConfig, path: str | os.PathLike[str]) -> Path:
    return write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """``"0,1,2"`` -> ``[0, 1, 2]``; a one-line error for anything else."""
    if text is None:
        return None
    try:
        return [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated integers such as 0,1,2, got {text!r}") from None


@contextlib.contextmanager
def fresh_run_dir(output_dir: str | os.PathLike[str], name: str, resume: str | os.PathLike[str] | None = None):
    """A new run folder (or the one being resumed); a new one is removed again if the block fails before it holds
    any result, so a mistake leaves nothing half-made behind."""
    if resume is not None:
        yield Path(resume)
        return
    run_dir = new_run_dir(output_dir, name)
    try:
        yield run_dir
    except BaseException:
        if all(p.name in ("config.yaml", "run.json", "log.txt") for p in run_dir.iterdir()):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def new_run_dir(output_dir: str | os.PathLike[str], name: str) -> Path:
    """A fresh folder ``output_dir/name-YYYYmmdd-HHMMSS[-k]``; an existing run is never reused."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(output_dir) / f"{name}-{stamp}"
    candidate, k = base, 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            k += 1
            candidate = base.with_name(f"{base.name}-{k}")
