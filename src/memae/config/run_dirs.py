"""Run folders: a fresh ``output_dir/name-YYYYmmdd-HHMMSS`` for every run, removed again if it fails empty."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
from pathlib import Path

__all__ = ["fresh_run_dir", "new_run_dir"]


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
