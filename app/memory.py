"""Keep a worker's resident memory near what it holds: large buffers given back to the system when freed.

glibc serves allocations of 128 KB or more with their own mappings, returned on free, but raises that
threshold (up to 32 MB) each time such a block is freed. A worker frees large response bodies all the time
(the response cache evicting, pages of 100 KB and more), so after a while those bodies come from the heap,
and the heap keeps its high-water mark: measured, 208 MB after the bench's distinct-query run against 184 MB
with the threshold fixed. :func:`bound_heap_growth` fixes it, for this process (``mallopt``) and for the
workers it starts (glibc reads ``MALLOC_MMAP_THRESHOLD_`` at their start). Elsewhere than glibc, nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def bound_heap_growth() -> bool:
    """Fix glibc's mmap threshold at 128 KB here and in processes started from here; True when applied."""
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
