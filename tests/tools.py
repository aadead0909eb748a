"""System tools some tests need: skipped with the reason on a developer's machine, a failure in CI.

``make test`` installs what it can (scripts/install-test-deps.sh); without root it cannot install Chromium,
podman or debootstrap, and those tests skip saying why. In CI (``CI=true``) every tool is installed first,
so a missing one means the pipeline is broken: the test fails instead of passing silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it when running in CI."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require(*names: str, hint: str = "run scripts/install-test-deps.sh") -> list[str]:
    """The full path of each tool, or :func:`unavailable` naming those missing."""
    found = [shutil.which(name) for name in names]
    missing = [name for name, path in zip(names, found, strict=True) if path is None]
    if missing:
        unavailable(f"{', '.join(missing)} not installed ({hint})")
    return [path for path in found if path is not None]


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        unavailable(f"{what} needs root (uid 0); this user is uid {os.geteuid()}")


def first_of(candidates: Sequence[str], *, hint: str) -> str:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    unavailable(f"none of {', '.join(candidates)} installed ({hint})")
