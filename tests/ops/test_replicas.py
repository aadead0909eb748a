"""Two replicas started at once on one fresh store: both serve, exactly one migrates and loads.

On PostgreSQL they take the advisory lock; on one SQLite file (two processes, as ``--workers 2`` starts)
the file lock beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ENV, _drop_postgres, _fresh_postgres
from tests.ops.server import BIN, ROOT, running, service_env

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL run skipped: set {PG_ENV} to a PostgreSQL URL to enable it")
    url, name = _fresh_postgres(base)
    yield url
    _drop_postgres(base, name)


def test_two_replicas_one_bootstrap(fresh_database: str, tmp_path: Path) -> None:
    env = service_env(LDNKB_DATABASE_URL=fresh_database)
    command = [str(BIN / "ldn-kb"), "serve", "--port", "{port}"]
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running(command, env=env, cwd=ROOT, log=tmp_path / f"replica-{n}.log")) for n in (1, 2)
        ]
        for server in servers:
            body = server.wait_ready().json()
            assert body["status"] == "ready"
    lines = [line for server in servers for line in server.lines()]
    assert sum(1 for line in lines if line["message"] == "content loaded") == 1

    engine = create_engine(fresh_database)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        duplicated = connection.execute(
            text(
                "SELECT record_kind, slug, count(*) FROM revision WHERE change = 'create' "
                "GROUP BY record_kind, slug HAVING count(*) > 1"
            )
        ).all()
        assert duplicated == []
        assert connection.execute(text("SELECT count(*) FROM dataset_state")).scalar_one() == 1
    engine.dispose()
