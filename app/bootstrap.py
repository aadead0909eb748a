"""Preparing the store at start: migrate, then load the curated dataset when the store is empty.

The whole step runs under a lock, so that of several workers or replicas starting together exactly one
migrates and loads while the others wait and then find the work done: an advisory lock on PostgreSQL, an
exclusive ``flock`` on a file beside the database on SQLite. SQLite serialises single writes but not this
read-then-load, so without the lock two workers starting on an empty file both loaded the dataset.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import migrate
from app.db import is_store_outage, outage_summary, sqlite_file, statement_timeout
from app.services.dataset import dataset_info
from app.settings import Settings

if TYPE_CHECKING:
    from app.content.loader import LoadReport

log = logging.getLogger("ldn_kb.bootstrap")

ADVISORY_LOCK_KEY = 0x4C444E4B42  # "LDNKB"
LOCK_POLL_SECONDS = 0.2


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file beside a SQLite file database; None for other stores and in-memory databases."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    return None if path is None else path.with_name(path.name + ".bootstrap-lock")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock, across processes, held while the block runs (released by the kernel on exit)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def store_lock(engine: Engine) -> Iterator[None]:
    """One preparer at a time for this store, across processes and hosts that share it."""
    if engine.dialect.name != "postgresql":
        path = sqlite_lock_path(engine)
        if path is None:
            yield
        else:
            with file_lock(path):
                yield
        return
    with engine.connect() as connection:
        # Polled rather than waited for: each statement stays well under the statement timeout while another
        # process migrates and loads.
        while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar():
            connection.commit()
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            connection.commit()


def prepare_store(engine: Engine, settings: Settings) -> LoadReport | None:
    """Migrate (when enabled) and load the dataset into an empty store; return the load report. Its
    statements may take up to ``db_prepare_timeout`` seconds each (request statements: far less)."""
    with statement_timeout(settings.db_prepare_timeout), store_lock(engine):
        if settings.auto_migrate:
            migrate.upgrade_to_head(engine)
        if not settings.auto_load_content:
            return None
        with Session(engine) as session:
            if dataset_info(session).content_version > 0:
                return None
            # Imported here: a restart on a loaded store (the usual case) needs neither the YAML reader nor
            # the loader, and start-up is mostly imports.
            from app.content.files import read_dataset
            from app.content.loader import load_dataset

            report = load_dataset(session, read_dataset())
        log.info("content loaded", extra={"content_version": report.content_version})
        return report


def read_content_version(engine: Engine) -> int:
    with Session(engine) as session:
        return dataset_info(session).content_version


def try_prepare_store(engine: Engine, settings: Settings) -> bool:
    """:func:`prepare_store`, unless the store is away (then False and one log line: the process starts
    anyway, not ready, and :func:`keep_preparing` tries again). Any other failure still stops the start."""
    try:
        prepare_store(engine, settings)
    except Exception as exc:
        if not _store_away(exc):
            raise
        log.warning("store not available at start; serving not-ready until it is: %s", outage_summary(exc))
        return False
    return True


async def keep_preparing(engine: Engine, settings: Settings, on_prepared: Callable[[], None]) -> None:
    """Try to prepare the store every ``store_retry_interval`` seconds until it works, then ``on_prepared``."""
    import anyio

    while True:
        await anyio.sleep(settings.store_retry_interval)
        if await anyio.to_thread.run_sync(_try_quietly, engine, settings):
            log.warning("store available: prepared")
            on_prepared()
            return


def _try_quietly(engine: Engine, settings: Settings) -> bool:
    try:
        prepare_store(engine, settings)
    except Exception as exc:
        if not _store_away(exc):
            log.error("preparing the store failed", exc_info=exc)
        return False
    return True


def _store_away(exc: Exception) -> bool:
    """An outage of the store, or (SQLite) its folder or lock file cannot be opened."""
    return is_store_outage(exc) or isinstance(exc, OSError)
