"""Which modules a piece of code imports, measured in a fresh interpreter (start-up is mostly imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def modules_left_loaded(code: str, names: Iterable[str], cwd: Path) -> list[str]:
    """Run ``code`` in a new Python process and return which of ``names`` it left in ``sys.modules``."""
    wanted = sorted(names)
    script = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {wanted!r} if m in sys.modules]))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found
