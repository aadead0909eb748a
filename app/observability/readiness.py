"""Readiness checks, free of HTTP: is the store reachable, migrated to head, and loaded with content?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import migrate
from app.bootstrap import read_content_version

CHECKS = ("database", "migrations", "content")


@dataclass(slots=True)
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(c["status"] == "ok" for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, c in self.checks.items() if c["status"] == "failed"]


def _error(exc: BaseException) -> str:
    """The exception's class and first line: enough to act on, without a URL or password in it."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:200]


def check_readiness(engine: Engine, head: str | None) -> Readiness:
    """Run the three checks in order; a check that cannot run because an earlier one failed is skipped."""
    result = Readiness()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result.checks["database"] = {"status": "ok", "dialect": engine.dialect.name}
    except SQLAlchemyError as exc:
        result.checks["database"] = {"status": "failed", "error": _error(exc)}
        result.checks["migrations"] = {"status": "skipped"}
        result.checks["content"] = {"status": "skipped"}
        return result
    try:
        current = migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        result.checks["migrations"] = {"status": "failed", "error": _error(exc), "head": head}
    else:
        at_head = current is not None and current == head
        result.checks["migrations"] = {"status": "ok" if at_head else "failed", "current": current, "head": head}
    try:
        version = read_content_version(engine)
    except SQLAlchemyError as exc:
        result.checks["content"] = {"status": "failed", "error": _error(exc)}
    else:
        result.checks["content"] = {"status": "ok" if version > 0 else "failed", "content_version": version}
    return result
