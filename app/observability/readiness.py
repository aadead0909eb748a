"""Readiness checks, free of HTTP: is the store reachable, migrated to head, loaded, and writable?

What a check reports is safe to show anyone who can reach ``/readyz``: a reason word and the error's class,
never a host, port, path or message of the driver (those go to the log).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import migrate
from app.bootstrap import read_content_version
from app.db import StoreUnavailable, outage_summary, sqlite_file

log = logging.getLogger("ldn_kb.readiness")

CHECKS = ("database", "migrations", "content", "writes")
#: A statement that needs a write transaction and changes nothing: refused by a read-only store
#: (a read-only SQLite file or connection, a PostgreSQL standby or read-only transaction).
_WRITE_PROBE = text("UPDATE dataset_state SET id = id WHERE 1 = 0")


@dataclass(slots=True)
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(c["status"] in ("ok", "not-required") for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, c in self.checks.items() if c["status"] == "failed"]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StoreUnavailable):
        return "circuit breaker open"
    message = str(getattr(exc, "orig", None) or exc).lower()
    if "read-only" in message or "readonly" in message or "read only" in message:
        return "read-only"
    if "full" in message or "no space" in message:
        return "full"
    if "timeout" in message or "timed out" in message:
        return "timed out"
    return "unreachable"


def _failed(exc: BaseException, **extra: Any) -> dict[str, Any]:
    log.warning("readiness check failed: %s", outage_summary(exc))
    return {"status": "failed", "reason": _reason(exc), "error": type(exc).__name__, **extra}


def _free_bytes(engine: Engine) -> int | None:
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        return None
    stats = os.statvfs(path.parent if path.parent.exists() else ".")
    return stats.f_bavail * stats.f_frsize


def check_writes(engine: Engine, min_free_bytes: int) -> dict[str, Any]:
    try:
        with engine.connect() as connection:
            connection.execute(_WRITE_PROBE)
            connection.rollback()
    except (SQLAlchemyError, StoreUnavailable) as exc:
        return _failed(exc)
    free = _free_bytes(engine)
    if free is not None and free < min_free_bytes:
        return {"status": "failed", "reason": "full", "free_bytes": free}
    return {"status": "ok"}


def check_readiness(
    engine: Engine, head: str | None, *, require_writes: bool = True, min_free_bytes: int = 0
) -> Readiness:
    """Run the checks in order; a check that cannot run because an earlier one failed is skipped."""
    result = Readiness()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result.checks["database"] = {"status": "ok", "dialect": engine.dialect.name}
    except (SQLAlchemyError, StoreUnavailable) as exc:
        result.checks["database"] = _failed(exc)
        for name in CHECKS[1:]:
            result.checks[name] = {"status": "skipped"}
        return result
    try:
        current = migrate.current_revision(engine)
    except (SQLAlchemyError, StoreUnavailable) as exc:
        result.checks["migrations"] = _failed(exc, head=head)
    else:
        at_head = current is not None and current == head
        result.checks["migrations"] = {"status": "ok" if at_head else "failed", "current": current, "head": head}
    try:
        version = read_content_version(engine)
    except (SQLAlchemyError, StoreUnavailable) as exc:
        result.checks["content"] = _failed(exc)
    else:
        result.checks["content"] = {"status": "ok" if version > 0 else "failed", "content_version": version}
    if not require_writes:
        result.checks["writes"] = {"status": "not-required"}
    elif result.checks["migrations"]["status"] != "ok":
        result.checks["writes"] = {"status": "skipped"}
    else:
        result.checks["writes"] = check_writes(engine, min_free_bytes)
    return result
