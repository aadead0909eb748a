"""Store timeouts and the circuit breaker (issue 13, row 3), on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from app.db import Breaker, StoreUnavailable, breaker_of, is_store_outage, make_engine, statement_timeout
from app.settings import Settings

ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(30)",
}


def test_a_long_statement_is_stopped_and_is_an_outage(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url, db_statement_timeout=0.5))
    started = time.monotonic()
    with pytest.raises(Exception) as caught, engine.connect() as connection:
        connection.execute(text(ENDLESS[engine.dialect.name]))
    took = time.monotonic() - started
    engine.dispose()
    assert took < 3, took
    assert is_store_outage(caught.value), repr(caught.value)
    assert "[parameters" not in str(caught.value) or "hidden" in str(caught.value)


def test_an_unreachable_store_opens_the_breaker_then_fails_fast(database_url: str, tmp_path: object) -> None:
    if database_url.startswith("sqlite"):
        url = "sqlite:////proc/no-such-folder/kb.sqlite3"  # cannot be created or opened
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:9/none"  # the discard port: refused
    settings = Settings(database_url=url, db_breaker_failures=2, db_breaker_reset=30, db_connect_timeout=2)
    engine = make_engine(settings)
    breaker = breaker_of(engine)
    assert breaker is not None
    for _ in range(2):
        with pytest.raises(Exception) as caught, engine.connect():
            pass
        assert is_store_outage(caught.value) and not isinstance(caught.value, StoreUnavailable)
    assert breaker.open
    started = time.monotonic()
    with pytest.raises(StoreUnavailable), engine.connect():
        pass
    assert time.monotonic() - started < 0.05
    engine.dispose()
    assert breaker_of(engine) is breaker  # a recreated pool keeps the breaker


def test_breaker_half_opens_for_one_probe() -> None:
    now = [0.0]
    breaker = Breaker(failures=3, reset=5, clock=lambda: now[0])
    for _ in range(3):
        breaker.check()
        breaker.failure()
    with pytest.raises(StoreUnavailable):
        breaker.check()
    now[0] = 5.1
    breaker.check()  # the probe goes through ...
    with pytest.raises(StoreUnavailable):
        breaker.check()  # ... the others still fail fast while it runs
    breaker.failure()
    assert breaker.open
    now[0] = 10.2
    breaker.check()
    breaker.success()
    assert not breaker.open
    breaker.check()


SLEEP_ONE_SECOND = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(1)",
}


def test_preparing_the_store_may_take_longer_than_a_request(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url, db_statement_timeout=0.3))
    slow = text(SLEEP_ONE_SECOND[engine.dialect.name])
    with statement_timeout(30), engine.connect() as connection:
        connection.execute(slow)  # would be stopped at 0.3 s outside the block
    for _ in range(2):  # the same pooled connection, back under the request timeout
        with pytest.raises(Exception) as caught, engine.connect() as connection:
            connection.execute(slow)
        assert is_store_outage(caught.value)
    engine.dispose()
