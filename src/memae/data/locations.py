"""What a video argument names: a file or folder, or a stream (standard input or a URL).

Its own module, free of torch and PyAV, so that the CLI can check a path before the heavy stack loads.
"""

from __future__ import annotations

__all__ = ["STDIN", "is_stream"]

STDIN = "-"


def is_stream(location: str) -> bool:
    """Whether a video argument names a stream (``-`` for standard input, or a URL) rather than a file or folder."""
    return location == STDIN or "://" in location
