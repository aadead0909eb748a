"""Preparing the store at start: migrate, then load the curated dataset when the store is empty.

On PostgreSQL the whole step runs under an advisory lock, so that of several replicas starting
together exactly one migrates and loads while the others wait and then find the work done.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import migrate
from app.content.files import read_dataset
from app.content.loader import LoadReport, load_dataset
from app.services.dataset import dataset_info
from app.settings import Settings

log = logging.getLogger("ldn_kb.bootstrap")

ADVISORY_LOCK_KEY = 0x4C444E4B42  # "LDNKB"


@contextmanager
def store_lock(engine: Engine) -> Iterator[None]:
    """A cluster-wide lock on PostgreSQL; SQLite serialises writers itself."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            connection.commit()


def prepare_store(engine: Engine, settings: Settings) -> LoadReport | None:
    """Migrate (when enabled) and load the dataset into an empty store; return the load report."""
    with store_lock(engine):
        if settings.auto_migrate:
            migrate.upgrade_to_head(engine)
        if not settings.auto_load_content:
            return None
        with Session(engine) as session:
            if dataset_info(session).content_version > 0:
                return None
            report = load_dataset(session, read_dataset())
        log.info("content loaded", extra={"content_version": report.content_version})
        return report


def read_content_version(engine: Engine) -> int:
    with Session(engine) as session:
        return dataset_info(session).content_version
