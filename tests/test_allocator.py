"""The CLI has glibc serve large CPU tensors from the heap, so freeing one does not unmap it (docs/speed.md)."""

import os
import subprocess
import sys

import pytest

# How many blocks glibc maps on their own (mallinfo2's hblks) to allocate one 64 MiB tensor.
PROBE = """
import ctypes, sys
import torch
from memae.cli.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
applied = keep_freed_memory() if sys.argv[1] == "on" else False
before = libc.mallinfo2().hblks  # torch's import has mapped some blocks of its own before the setting
block = torch.ones(1 << 24)
print(applied, libc.mallinfo2().hblks - before)
"""


def glibc_with_mallinfo2() -> bool:
    version = os.confstr("CS_GNU_LIBC_VERSION") if sys.platform.startswith("linux") else None
    return bool(version) and tuple(int(p) for p in version.split()[1].split(".")[:2]) >= (2, 33)


glibc_only = pytest.mark.skipif(not glibc_with_mallinfo2(), reason="mallopt and mallinfo2 are glibc's (>= 2.33)")


def probe(mode: str, **extra_env: str) -> tuple[bool, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LD_PRELOAD"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], env={**env, **extra_env}, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0] == "True", int(out[1])


@glibc_only
def test_large_tensors_come_from_the_heap_not_from_their_own_mapping():
    applied, mapped_blocks = probe("on")
    _, mapped_blocks_by_default = probe("off")
    assert mapped_blocks_by_default >= 1  # glibc's default: a block this size gets its own mmap, unmapped on free
    assert applied and mapped_blocks == 0


@glibc_only
def test_a_users_own_allocator_setting_is_left_alone():
    applied, mapped_blocks = probe("on", MALLOC_MMAP_THRESHOLD_="131072")
    assert not applied and mapped_blocks >= 1
