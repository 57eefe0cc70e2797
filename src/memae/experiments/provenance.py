"""Where a result came from: the commit, the machine and the command, for every results file.

Loads no torch at import (machine_info imports it when called), so the run store can record commits cheaply.
May import the standard library only.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "machine_info", "provenance"]


def machine_info() -> dict[str, Any]:
    """Platform, processor, CPU count, torch version and threads, and the CUDA device if any."""
    import torch  # here, not at the top: the run store records commits without loading torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def git_commit() -> str:
    """The short commit of the source tree this package runs from, ``+dirty`` with uncommitted changes to tracked
    files, or ``unknown`` outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               timeout=5, cwd=Path(__file__).resolve().parent)
        return (out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")) or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(seconds: float | None = None, commits: list[str] | None = None, command: str | None = None) -> str:
    """Markdown lines naming the exact command, commit(s), machine and wall time of a result.

    ``commits``: the commit of every invocation that contributed (a resumed run may span several); default: now.
    ``command``: default: this process's ``memae ...`` command line.
    """
    import shlex
    import sys

    info = machine_info()
    if command is None:
        command = "memae " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else "(python API)"
    lines = [
        f"- command: `{command}`",
        f"- commit: `{git_commit()}`" if not commits else
        "- commit: " + ", then ".join(f"`{c}`" for c in dict.fromkeys(commits)) + " (one per invocation of the run)",
        f"- machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs, torch {info['torch']} "
        f"({info['threads']} threads){', ' + info['cuda'] if info['cuda'] else ''}",
    ]
    if seconds is not None:
        lines.append(f"- wall time: {seconds / 60:.1f} min")
    return "\n".join(lines) + "\n"
