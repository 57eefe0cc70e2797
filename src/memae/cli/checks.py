"""Checks the CLI runs before any work starts, so that a mistake costs seconds, not a training run.

* :func:`check_output_file` / :func:`check_output_dir`: an output path must be creatable and writable, and a file
  path must not name a folder (the user once lost a scored video to an unwritable ``--plot`` after the CSV).
* :func:`check_score_inputs`: the checkpoint's path and file header, the input's path and a CSV's label column,
  read with the standard library alone: torch and PyOD take seconds to import, a typo should not.

(``model.options`` values are typed by :class:`memae.config.ModelOptions` and checked when the config loads.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import ConfigError, DataError, did_you_mean
from ..io import check_checkpoint_file, resolve_checkpoint

__all__ = ["check_output_file", "check_output_dir", "check_score_inputs"]


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


def check_score_inputs(checkpoint: str | os.PathLike[str], input_path: str | os.PathLike[str],
                       label_column: str | None = None) -> Path:
    """What ``memae score`` can check without the heavy stack; returns the checkpoint file (a run folder's best.pt)."""
    path = check_checkpoint_file(resolve_checkpoint(checkpoint))
    source = Path(input_path)
    if not source.exists():
        raise DataError(f"input {source} does not exist; pass a .npy file, an image folder or a .csv/.parquet table")
    name = source.name.lower()
    if label_column is not None and source.is_file() and name.endswith((".csv", ".tsv", ".txt")):
        import csv

        with open(source, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle, delimiter="\t" if name.endswith(".tsv") else ","), [])
        if header and label_column not in header:
            raise DataError(f"{source}: label column {label_column!r} not found{did_you_mean(label_column, header)} "
                            f"(columns: {', '.join(header[:20])}{', ...' if len(header) > 20 else ''})")
    return path
