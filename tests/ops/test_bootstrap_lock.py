"""The start-up lock: a second preparer waits for the first, then finds the store loaded and loads nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import migrate
from app.bootstrap import prepare_store, read_content_version, sqlite_lock_path, store_lock
from app.content.files import read_dataset
from app.content.loader import LoadReport, load_dataset
from app.db import make_engine
from app.settings import Settings


def test_second_preparer_waits_then_finds_the_work_done(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    outcome: dict[str, LoadReport | None] = {}
    with store_lock(engine):
        waiter = threading.Thread(target=lambda: outcome.setdefault("report", prepare_store(engine, settings)))
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive(), "the second preparer must wait for the lock"
        prepare_store_inside_lock(engine)
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert outcome == {"report": None}, "the waiter found content and loaded nothing"
    assert read_content_version(engine) == 1
    engine.dispose()


def prepare_store_inside_lock(engine: Engine) -> None:
    """What the first preparer does while it holds the lock (migrate, load), without taking it again."""
    migrate.upgrade_to_head(engine)
    with Session(engine) as session:
        load_dataset(session, read_dataset())


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_needs_no_lock_file(url: str) -> None:
    assert sqlite_lock_path(create_engine(url)) is None


def test_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    assert sqlite_lock_path(engine) == tmp_path / "kb.sqlite3.bootstrap-lock"
