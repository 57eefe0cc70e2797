"""From YAML files, mappings and ``section.key=value`` flags to a checked :class:`~memae.config.ExperimentConfig`.

The coercer checks every key against the schema's type hints: unknown keys and values of the wrong type, or a name
outside a ``Literal``, are one-line :class:`~memae.errors.ConfigError` s that name the key.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from ..errors import ConfigError
from ..io import write_text
from .legacy import MOVED_KEYS, upgrade_config_dict
from .schema import ExperimentConfig, check_choice

__all__ = ["VIDEO_PRESETS", "preset_path", "build_dataclass", "config_from_dict", "apply_overrides", "read_yaml",
           "load_config", "save_config", "parse_int_list"]

#: The shipped video presets (ordinary experiment configs beside :mod:`memae.experiments`), by the name
#: ``memae reproduce --preset`` takes; ``--config`` also takes them as ``video_<name>``.
VIDEO_PRESETS = {name: Path(__file__).resolve().parents[1] / "experiments" / "configs" / f"video_{name}.yaml"
                 for name in ("paper", "cpu")}


def preset_path(name: str | os.PathLike[str]) -> Path | None:
    """The file of a video preset named ``paper``, ``cpu``, ``video_paper`` or ``video_cpu``; None for any other
    name."""
    return VIDEO_PRESETS.get(str(name).removeprefix("video_"))


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
    if origin is Literal:
        return check_choice(value, args, key)
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
        moved = [MOVED_KEYS[prefix, k] for k in unknown if (prefix, k) in MOVED_KEYS]
        hint = f" ({', '.join(moved)})" if moved else ""
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)} {where}; valid keys: {', '.join(fields)}{hint}")
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_dataclass(hint, value or {}, key)
        else:
            kwargs[name] = _coerce(value, hint, key)
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any] | None, overrides: list[str] | None = None) -> ExperimentConfig:
    """Build and validate a config, after ``section.key=value`` overrides; every bad key or value raises
    :class:`ConfigError` before any work starts.

    A config in the layout of older video runs (a checkpoint's, a run folder's) is translated first
    (:func:`upgrade_config_dict`), so that the overrides use the current layout."""
    values = apply_overrides(upgrade_config_dict(values or {}), overrides or [])
    config = build_dataclass(ExperimentConfig, upgrade_config_dict(values), "")
    config.validate()
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
    """Read a YAML config (or start from the defaults), apply overrides, validate every key.

    ``path``: a YAML file, or the name of a video preset (``video_cpu``, ``cpu``, ... : :func:`preset_path`) where no
    file of that name exists; a config in the layout of older video runs is translated (:func:`upgrade_config_dict`).
    """
    if path is not None and not Path(path).is_file() and preset_path(path) is not None:
        path = preset_path(path)
    return config_from_dict(read_yaml(path) if path is not None else {}, overrides)


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
