"""What memae shows on the terminal: one rule for progress bars, used by every tqdm call site.

A bar redrawn into a log file is hundreds of lines (a 20 s table run once wrote 293) and runs into the error text
that follows it; so bars are shown only when asked for *and* stderr is a terminal.  Where they are hidden, the
training loop's callers log one line per epoch instead (:data:`EPOCH_LOGGER`).
"""

from __future__ import annotations

import logging
import sys

__all__ = ["show_progress", "close_progress_bars", "EPOCH_LOGGER"]

#: Logger of the one line per epoch printed in place of the bars; the CLI's handler of ``memae`` shows it.
EPOCH_LOGGER = logging.getLogger("memae.progress")


def show_progress(requested: bool = True) -> bool:
    """Whether a progress bar should be drawn: ``requested`` and stderr is a terminal."""
    if not requested:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def close_progress_bars() -> None:
    """Close every open tqdm bar, so that a message printed next starts on its own line (no-op without tqdm)."""
    tqdm_module = sys.modules.get("tqdm.std")
    if tqdm_module is None:
        return
    for bar in list(getattr(tqdm_module.tqdm, "_instances", ())):
        try:
            bar.close()
        except Exception:  # noqa: BLE001 - a half-made bar must not hide the error being reported
            pass
