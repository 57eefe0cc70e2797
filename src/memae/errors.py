"""Exceptions that the CLI turns into one-line messages.

Every user-facing mistake raises a subclass of :class:`MemAEError` whose message says what is wrong and
how to fix it.  Library code never prints; the CLI maps these to ``Error: ...`` on stderr and exit 1.
"""

from __future__ import annotations


class MemAEError(Exception):
    """Base class of every error that is the user's to fix."""


class ConfigError(MemAEError, ValueError):
    """A bad configuration key, value or combination of options."""


class DivergenceError(ConfigError):
    """The training loss became NaN or inf: the learning rate (or another setting) is too large."""

    def __init__(self, message: str, loss: float = float("nan"), epoch: int = 0) -> None:
        super().__init__(message)
        self.loss, self.epoch = loss, epoch  # the value seen and the 1-based epoch, for callers that reword it


class DataError(MemAEError, ValueError):
    """Missing, malformed or unusable input data (files, arrays, shapes, NaN/inf)."""


class UnknownNameError(MemAEError, KeyError):
    """An unknown architecture, variant, method, dataset or experiment name."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CheckpointError(MemAEError, RuntimeError):
    """A missing, corrupt or incompatible checkpoint file."""


class MemAEWarning(UserWarning):
    """Something the user should know that does not stop the command (damaged video, out-of-distribution input,
    a label-like column used as a feature).  The CLI prints it as one ``Warning: ...`` line on stderr."""


def did_you_mean(name: str, choices: "list[str] | tuple[str, ...]") -> str:
    """`` (did you mean 'label'?)`` for the choice nearest to ``name`` (case-insensitive, difflib), else ``""``.

    A list cut at 20 names once hid the very column the user meant; the nearest name is the useful hint.
    """
    import difflib

    lowered = {str(c).lower(): str(c) for c in choices}
    near = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[near[0]]!r}?)" if near else ""
