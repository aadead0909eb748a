"""``ldn-kb serve`` keeps large freed buffers out of the heap (app/memory.py), so RSS follows what a worker
holds: in a fresh interpreter, large blocks freed while small ones stay allocated are given back with the
threshold fixed, and kept without it (glibc raising its mmap threshold after the first large free)."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Large blocks (over 128 KB) freed once, then allocated again between small ones that stay: freed again, do
# they leave RSS where it was?
_PROBE = """
import sys
sys.path.insert(0, sys.argv[2])
if sys.argv[1] == "bounded":
    from app.memory import bound_heap_growth
    assert bound_heap_growth()
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) // 1024
base = rss()
first = [bytes(400_000) for _ in range(5)]
del first
kept, blocks = [], []
for i in range(200):
    blocks.append(bytes(300_000 + i))
    kept.append(b"x" * (1000 + i % 50))
del blocks
print(rss() - base)
"""


def _growth(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, str(ROOT)], capture_output=True, text=True, check=True, timeout=60
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None, reason="glibc's malloc only"
)
def test_large_freed_buffers_go_back_to_the_system() -> None:
    unbounded, bounded = _growth("default"), _growth("bounded")
    assert unbounded >= 20, f"the probe did not reproduce the heap growth it guards against ({unbounded} MB)"
    assert bounded <= 5, f"{bounded} MB kept after freeing 60 MB of large blocks"


def test_the_setting_reaches_processes_started_after_it() -> None:
    """`ldn-kb serve --workers N` starts new processes: glibc reads the threshold from their environment."""
    code = "import os; from app.memory import bound_heap_growth; bound_heap_growth(); print(os.environ['MALLOC_MMAP_THRESHOLD_'])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.strip() == "131072"
