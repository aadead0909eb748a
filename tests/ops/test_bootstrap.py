"""Start-up preparation: the lock (a second preparer waits for the first, then finds the store loaded and
loads nothing), and a restart on a loaded store that imports neither the loader nor the YAML reader."""

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
from tests.imports import modules_left_loaded


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


def test_a_restart_on_a_loaded_store_skips_the_loader(database_url: str, tmp_path: Path) -> None:
    """Start-up is mostly imports: on a store already loaded, the service and its command line import
    neither the content loader, the YAML reader nor the exporter (only an empty store needs them)."""
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    prepare_store(engine, settings)  # loads, unless another test of this module's store already did
    assert read_content_version(engine) > 0
    engine.dispose()
    code = (
        "import app.cli, app.main\n"
        "from app.bootstrap import prepare_store\n"
        "from app.db import make_engine\n"
        "from app.settings import Settings\n"
        f"settings = Settings(database_url={database_url!r})\n"
        "assert prepare_store(make_engine(settings), settings) is None\n"
    )
    heavy = ("yaml", "app.content.loader", "app.content.files", "app.content.schema", "app.content.exporter")
    assert modules_left_loaded(code, heavy, tmp_path) == []


def test_the_command_line_imports_no_store_modules(tmp_path: Path) -> None:
    """`ldn-kb serve --workers N` runs a supervisor that only spawns workers: importing the command line
    must not import the store's modules (each worker imports them itself)."""
    store = ("sqlalchemy", "sqlmodel", "alembic", "yaml", "app.db", "app.migrate", "app.content.loader")
    assert modules_left_loaded("import app.cli", store, tmp_path) == []
