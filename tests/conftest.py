"""Shared fixtures: one fresh store per test module, on SQLite and (when configured) PostgreSQL.

``LDNKB_TEST_DATABASE_URL`` (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) enables the
PostgreSQL runs: each module gets its own freshly created database, dropped afterwards. Without it the
PostgreSQL parameter is skipped with that reason and the SQLite runs go on.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from app.main import create_app
from app.settings import Settings

PG_ENV = "LDNKB_TEST_DATABASE_URL"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _fresh_postgres(base_url: str) -> tuple[str, str]:
    name = f"ldnkb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(base_url: str, name: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def fresh_store(kind: str, folder: Path) -> Iterator[str]:
    """A URL of an empty store of ``kind`` ("sqlite": a file in ``folder``; "postgresql": a database of its
    own, dropped afterwards, or a skip with the reason when LDNKB_TEST_DATABASE_URL is unset)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'ldn-kb.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL run skipped: set {PG_ENV} to a PostgreSQL URL to enable it")
    url, name = _fresh_postgres(base)
    try:
        yield url
    finally:
        _drop_postgres(base, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of an empty store of the parametrised kind, private to this test module."""
    folder = tmp_path_factory.mktemp("store") if request.param == "sqlite" else Path()
    with fresh_store(request.param, folder) as url:
        yield url


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, content_check_interval=0)


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    """The real app, started with its lifespan (migrations + content load), over httpx."""
    with TestClient(app) as test_client:
        yield test_client


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(app: FastAPI) -> QueryCounter:
    return QueryCounter(app.state.engine)
