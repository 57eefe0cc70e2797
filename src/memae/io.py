"""Small file helpers: every file memae writes goes through a temp file and an atomic rename."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import CheckpointError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A crash or Ctrl-C inside the block leaves ``path`` as it was (never half-written).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()

#: How every file ``torch.save`` writes starts (a zip archive); memae checkpoints are never in torch's legacy format.
_ZIP_MAGIC = b"PK\x03\x04"


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """A checkpoint file, or a run folder: its ``best.pt``, or the one ``best.pt`` of its method folders.

    ``memae reproduce table2`` writes one folder per method (``runs/<run>/memae-seed1/best.pt``); a user who passes
    ``runs/<run>`` means the checkpoint inside.  Several candidates are an error that lists them.  (Here, not beside
    ``load_checkpoint``, so that the CLI can check paths before it imports torch.)
    """
    path = Path(path)
    if not path.is_dir():
        return path
    if (path / "best.pt").is_file():
        return path / "best.pt"
    found = sorted(path.glob("*/best.pt"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise CheckpointError(f"{path} holds no best.pt (nor do its sub-folders); pass a checkpoint file or a run folder")
    names = ", ".join(str(p.parent.name) for p in found[:8]) + (", ..." if len(found) > 8 else "")
    raise CheckpointError(f"{path} holds {len(found)} checkpoints ({names}); pass one of them, e.g. {found[0]}")


def check_checkpoint_file(path: str | os.PathLike[str]) -> Path:
    """``path`` exists, is not empty and starts like a file ``torch.save`` wrote; else one-line :class:`CheckpointError`.

    Reads 4 bytes, imports nothing: a mistyped path or a text file named ``.pt`` fails in milliseconds, before
    torch loads (and a text file once reached torch's legacy unpickler and left as ``KeyError: 101``).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; pass the best.pt or last.pt of a training run folder "
                              "(or the run folder)")
    with open(path, "rb") as handle:
        head = handle.read(len(_ZIP_MAGIC))
    if not head:
        raise CheckpointError(f"checkpoint {path} is empty; pass the best.pt or last.pt of a training run folder")
    if head != _ZIP_MAGIC:
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file (truncated, overwritten or another "
                              "format); use a complete best.pt or last.pt")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write dict rows to CSV atomically (columns: union of keys in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically; NaN and +-inf become ``null``.

    Python's json writes a bare ``NaN`` by default, which strict readers (browsers, jq, other languages) refuse.
    """
    text = json.dumps(_finite_or_null(obj), indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    return write_text(path, text + "\n")


def _finite_or_null(obj: Any) -> Any:
    """A copy of ``obj`` with every non-finite float (also NumPy scalars and arrays) replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_null(v) for v in obj]
    if type(obj).__module__ == "numpy":
        return _finite_or_null(_json_default(obj))
    return obj


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
