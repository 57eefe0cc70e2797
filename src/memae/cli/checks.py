"""Checks the CLI runs before any work starts, so that a mistake costs seconds, not a training run.

* :func:`check_output_file` / :func:`check_output_dir`: an output path must be creatable and writable, and a file
  path must not name a folder (the user once lost a scored video to an unwritable ``--plot`` after the CSV).

(``model.options`` values are typed by :class:`memae.config.ModelOptions` and checked when the config loads.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import ConfigError

__all__ = ["check_output_file", "check_output_dir"]


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
