"""Checks the CLI runs before any work starts, so that a mistake costs seconds, not a training run.

* :func:`check_output_file` / :func:`check_output_dir`: an output path must be creatable and writable, and a file
  path must not name a folder (the user once lost a scored video to an unwritable ``--plot`` after the CSV).
* :func:`check_model_options`: ``model.options`` values have the types the model builder expects; ``num_slots=lots``
  was a traceback and ``num_slots=2.5`` silently became 2.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["check_output_file", "check_output_dir", "check_model_options"]


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable_folder(folder: Path, flag: str, target: Path) -> None:
    if not folder.is_dir():
        raise ConfigError(f"{flag} {target}: {folder} is a file, not a folder; choose another path")
    try:  # os.access says yes to root on read-only mounts and /proc; creating a file is the real test
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(f"{flag} {target}: cannot write in {folder} ({exc.strerror or exc}); choose a writable "
                          "place") from None


def check_output_file(path: str | os.PathLike[str] | None, flag: str) -> None:
    """``path`` can be written as a file: not a folder, and its folder exists or can be created and is writable."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{flag} {target} is a folder; give a file name, e.g. {target / 'scores.csv'}")
    _check_writable_folder(_nearest_existing(target.parent), flag, target)


def check_output_dir(path: str | os.PathLike[str] | None, flag: str) -> None:
    """``path`` is, or can be created as, a writable folder."""
    if path is None:
        return
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{flag} {target} is a file; it must be a folder (it holds the run folders)")
    _check_writable_folder(_nearest_existing(target), flag, target)


_INTS = ("num_slots", "in_channels", "in_features")
_INT_LISTS = ("input_size", "hidden")
_FLOATS = ("temperature", "entropy_weight", "latent_l1_weight", "width")
_BOOLS = ("flatten_latent",)
_STRS = ("similarity", "activation")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()


def check_model_options(options: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the key when a ``model.options`` value has the wrong type."""
    for key, value in options.items():
        if value is None:
            continue
        name = f"model.options.{key}"
        if key in _INTS and not _is_int(value):
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        if key in _INT_LISTS and not (isinstance(value, (list, tuple)) and all(_is_int(v) for v in value)):
            raise ConfigError(f"{name} must be a list of whole numbers such as [16, 64, 64], got {value!r}")
        if key in _FLOATS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        if key in _BOOLS and not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        if key in _STRS and not isinstance(value, str):
            raise ConfigError(f"{name} must be a name, got {value!r}")
        if key == "shrink_threshold" and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise ConfigError(f"{name} must be a number or a string such as '1/N', got {value!r}")
