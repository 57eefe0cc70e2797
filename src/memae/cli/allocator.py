"""Keep glibc from handing PyTorch's large CPU buffers back to the kernel between training steps.

glibc serves a block above its mmap threshold (at most 32 MiB, whatever the setting) with a fresh ``mmap`` and
unmaps it on ``free``.  The video network allocates and frees activation buffers of that size at every step, so each
step faults them in again page by page: on this project's 2-core CPU machine a fifth of a training step was kernel
time (about 55,000 minor page faults per step).  Serving every block from the heap and keeping freed heap for the
next step removes that without touching any arithmetic (``benchmarks/allocator_speed.py`` checks the loss is equal
and measures the speed-up; docs/speed.md).  The process keeps up to ``KEPT_FREE_BYTES`` of freed memory it would
otherwise return to the system.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Freed heap kept for reuse (mallopt takes an int: 1 GiB).
KEPT_FREE_BYTES = 1 << 30
#: A user who sets any of these has chosen an allocator set-up of their own; it is left as it is.
USER_SETTINGS = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                 "LD_PRELOAD")


def keep_freed_memory() -> bool:
    """Ask glibc to serve every block from the heap and keep freed heap; ``True`` if applied.

    Does nothing (``False``) off Linux, without glibc's ``mallopt``, or where the user set an allocator variable.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt returns 1 on success; musl's stub returns 0, and then nothing changed.
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, KEPT_FREE_BYTES) == 1
