"""Checkpoints: a plain dict of tensors and primitives, written atomically, loaded with ``weights_only=True``.

Layout: ``{"format", "memae_version", "model_config", "model", "optimizer", "epoch", "history", "best_val",
"config"}``.  ``model_config`` rebuilds the network with :func:`memae.build_model`, so loading never unpickles code.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, MemAEError
from ..io import atomic_path, check_checkpoint_file, resolve_checkpoint  # resolve_checkpoint: re-exported
from ..version import __version__

__all__ = ["resolve_checkpoint", "save_checkpoint", "load_checkpoint", "update_checkpoint", "load_model", "CHECKPOINT_FORMAT",
           "PREPROCESSOR_KEY"]

CHECKPOINT_FORMAT = "memae-checkpoint-v1"
#: Key of the fitted table preprocessing (a ``TablePreprocessor`` / ``KDDPreprocessor`` ``state_dict()``) in a
#: checkpoint's ``extra`` dict: ``memae score`` preprocesses new tables with it.
PREPROCESSOR_KEY = "preprocessor"


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    epoch: int = -1,
    history: list[dict[str, float]] | None = None,
    best_val: float | None = None,
    config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint to ``path`` (temp file, then rename: an interrupted save leaves the old file intact)."""
    model = getattr(model, "module", model)  # unwrap DDP
    state = {
        "format": CHECKPOINT_FORMAT,
        "memae_version": __version__,
        "model_config": _plain(getattr(model, "config", {})),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "epoch": int(epoch),
        "history": history or [],
        "best_val": best_val,
        "config": _plain(config or {}),
        "extra": _plain(extra or {}),  # e.g. the score threshold fitted on validation normals
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint safely; a missing, corrupt or foreign file raises :class:`CheckpointError`."""
    path = check_checkpoint_file(path)  # missing, empty, or not a zip (a text file): before torch reads it
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if not zipfile.is_zipfile(path):  # random bytes read as a legacy pickle: damage, not a foreign object
            raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file (truncated, overwritten or "
                                  f"another format); use a complete best.pt or last.pt{_debug_detail(exc)}") from exc
        raise CheckpointError(f"checkpoint {path} is not a memae checkpoint: it holds objects that memae does not load "
                              f"(only plain tensors and values are read, never code){_debug_detail(exc)}") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file (truncated, overwritten or another "
                              f"format); use a complete best.pt or last.pt{_debug_detail(exc)}") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a memae checkpoint (no '{CHECKPOINT_FORMAT}' marker)")
    return state


def update_checkpoint(path: str | os.PathLike[str], **extra: Any) -> Path:
    """Add entries to a checkpoint's ``extra`` dict (atomic rewrite)."""
    state = load_checkpoint(path)
    state["extra"] = {**state.get("extra", {}), **_plain(extra)}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu", *,
               state: dict[str, Any] | None = None) -> nn.Module:
    """Rebuild the model a checkpoint describes and load its weights, in eval mode.

    ``state``: the checkpoint already read with :func:`load_checkpoint` (then ``path`` only names it in errors).
    """
    from ..models import build_model

    if state is None:
        state = load_checkpoint(path, map_location=device)
    try:
        model = build_model(**state["model_config"])
        model.load_state_dict(state["model"])
    except MemAEError:
        raise
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} does not match its model config (its weights do not fit the network "
                              f"it describes: a damaged or hand-edited file){_debug_detail(exc)}") from exc
    return model.to(device).eval()


def _debug_detail(exc: BaseException) -> str:
    """torch's own message, only with ``MEMAE_DEBUG=1``: it is long, cut mid-word in one line, and may carry terminal
    colour codes; ours says what is wrong in words the user can act on."""
    if os.environ.get("MEMAE_DEBUG") != "1":
        return ""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(exc)).strip()
    return f" [torch: {type(exc).__name__}: {text}]"


def _plain(obj: Any) -> Any:
    """Config values as plain containers (tuples become lists) so that ``weights_only`` loading accepts them."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
