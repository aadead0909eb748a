"""Engine factory: SQLite pragmas on connect, timeouts everywhere, and a circuit breaker.

A store that is away must cost a request a few seconds at most, and then nothing:

* connecting gives up after ``db_connect_timeout``; waiting for a pooled connection after
  ``db_pool_timeout``; a statement after ``db_statement_timeout`` (PostgreSQL's ``statement_timeout``, and,
  for a server that no longer answers at all, a watchdog that shuts the connection's socket one second
  later: a blackholed connection otherwise waits for the kernel, many minutes);
* after ``db_breaker_failures`` connection failures in a row the breaker opens: for ``db_breaker_reset``
  seconds every checkout fails at once with :class:`StoreUnavailable`; then one request tries the store
  again (half-open), and its success closes the breaker;
* statement parameters never appear in errors or logs (``hide_parameters``): they hold request bodies.

Errors that mean "the store cannot answer now" (:func:`is_store_outage`) become 503 answers (app.errors).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlmodel import create_engine

from app.settings import Settings

log = logging.getLogger("ldn_kb.db")


class StoreUnavailable(Exception):
    """The circuit breaker is open: the store failed just now, so this request does not try it."""


#: Exceptions that mean the store cannot answer now (rather than a bug in a query).
OUTAGE_EXCEPTIONS: tuple[type[Exception], ...] = (
    StoreUnavailable,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


#: SQLite reports a missing table as an OperationalError too: only these messages mean "not now".
_SQLITE_TRANSIENT = ("locked", "busy", "readonly", "read-only", "full", "disk", "unable to open", "interrupted")


#: PostgreSQL states that mean "not now": a read-only transaction (a standby), disk full, out of memory,
#: too many connections.
_PG_TRANSIENT_STATES = frozenset({"25006", "53100", "53200", "53300"})


def is_store_outage(exc: BaseException) -> bool:
    """True when ``exc`` means the store cannot answer now (unreachable, timed out, breaker open,
    read-only, full, locked), not that a query is wrong."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if getattr(getattr(exc, "orig", None), "sqlstate", None) in _PG_TRANSIENT_STATES:
        return True
    if not isinstance(exc, OUTAGE_EXCEPTIONS):
        return False
    origin = getattr(exc, "orig", None)
    if origin is not None and type(origin).__module__.startswith("sqlite3"):
        message = str(origin).lower()
        return any(word in message for word in _SQLITE_TRANSIENT)
    return True


def outage_summary(exc: BaseException) -> str:
    """The error's class and the first line of its message (no statement, no parameters)."""
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    return f"{type(origin).__name__}: {lines[0] if lines else ''}"[:300]


class Breaker:
    """A circuit breaker over connection failures (thread-safe)."""

    def __init__(self, *, failures: int, reset: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.reset = reset
        self.clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self._failures >= self.threshold and self.clock() < self._open_until

    def check(self) -> None:
        """Raise :class:`StoreUnavailable` while open; once the reset time has passed, let one caller
        through to try the store (the others keep failing fast until it succeeds or fails)."""
        if self._failures < self.threshold:
            return
        with self._lock:
            now = self.clock()
            if now < self._open_until:
                raise StoreUnavailable("the store failed just now; not trying it again yet")
            self._open_until = now + self.reset  # half-open: this caller is the probe

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.threshold:
                if self._failures == self.threshold:
                    log.warning("store circuit breaker open for %gs", self.reset)
                self._open_until = self.clock() + self.reset

    def success(self) -> None:
        if self._failures:
            with self._lock:
                if self._failures >= self.threshold:
                    log.warning("store circuit breaker closed: the store answers again")
                self._failures = 0
                self._open_until = 0.0


class GuardedQueuePool(QueuePool):
    """A QueuePool whose checkouts go through a :class:`Breaker`."""

    breaker: Breaker

    def connect(self) -> Any:
        self.breaker.check()
        try:
            connection = super().connect()
        except Exception:
            self.breaker.failure()
            raise
        self.breaker.success()
        return connection

    def recreate(self) -> QueuePool:
        pool = super().recreate()
        pool.breaker = self.breaker  # type: ignore[attr-defined]
        return pool


class Watchdog:
    """Shuts the socket of a PostgreSQL connection whose operation overran its deadline.

    Shutting the socket wakes the thread blocked on it with an error; SQLAlchemy then sees a disconnect
    and discards the connection. One daemon thread per process, started on first use, polling ten times a
    second while anything is armed."""

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._tokens = 0
        self.severed = 0

    def arm(self, connection: Any, seconds: float) -> int:
        with self._lock:
            self._tokens += 1
            token = self._tokens
            self._armed[token] = (time.monotonic() + seconds, connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ldn-kb-db-watchdog", daemon=True)
                self._thread.start()
        self._wake.set()
        return token

    def disarm(self, token: int) -> None:
        self._armed.pop(token, None)

    def _run(self) -> None:
        while True:
            if not self._armed:
                self._wake.wait()
                self._wake.clear()
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                overdue = [token for token, (deadline, _) in self._armed.items() if deadline <= now]
                victims = [self._armed.pop(token)[1] for token in overdue]
            for connection in victims:
                self.severed += 1
                log.warning("store operation overran its deadline: closing its connection")
                _sever(connection)


def _sever(connection: Any) -> None:
    try:
        fd = connection.pgconn.socket
        duplicate = socket.socket(fileno=os.dup(fd))
    except Exception:  # already closed
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


WATCHDOG = Watchdog()

_overrides = threading.local()


@contextmanager
def statement_timeout(seconds: float) -> Iterator[None]:
    """Statements this thread runs inside the block may take up to ``seconds`` (the store's preparation
    at start: migrations and the first content load are not request work)."""
    previous = getattr(_overrides, "seconds", None)
    _overrides.seconds = seconds
    try:
        yield
    finally:
        _overrides.seconds = previous


def _timeout(default: float) -> float:
    override: float | None = getattr(_overrides, "seconds", None)
    return default if override is None else override


def _with_deadlines(engine: Engine, statement_seconds: float, ping_seconds: float) -> None:
    """Arm the watchdog around every blocking call the dialect makes on a connection."""
    dialect: Any = engine.dialect

    def on_cursor(name: str, seconds: float) -> None:
        original = getattr(dialect, name)

        def guarded(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            token = WATCHDOG.arm(cursor.connection, _timeout(seconds))
            try:
                return original(cursor, *args, **kwargs)
            finally:
                WATCHDOG.disarm(token)

        setattr(dialect, name, guarded)

    def on_connection(name: str, seconds: float) -> None:
        original = getattr(dialect, name)

        def guarded(connection: Any, *args: Any, **kwargs: Any) -> Any:
            token = WATCHDOG.arm(connection, _timeout(seconds))
            try:
                return original(connection, *args, **kwargs)
            finally:
                WATCHDOG.disarm(token)

        setattr(dialect, name, guarded)

    for name in ("do_execute", "do_execute_no_params", "do_executemany"):
        on_cursor(name, statement_seconds)
    for name in ("do_commit", "do_rollback"):
        on_connection(name, statement_seconds)
    on_connection("do_ping", ping_seconds)


#: SQLite: the deadline of the statement each connection runs (by id of the connection), 0 when idle.
_SQLITE_DEADLINES: dict[int, float] = {}


def _interrupt_when_late(dbapi_connection: Any) -> None:
    """SQLite's statement timeout: a progress handler that interrupts a statement past its deadline (the
    statement then fails with "interrupted", an outage answered 503)."""
    key = id(dbapi_connection)
    deadlines = _SQLITE_DEADLINES
    clock = time.monotonic

    def late() -> int:
        deadline = deadlines.get(key, 0.0)
        return 1 if deadline and clock() > deadline else 0

    dbapi_connection.set_progress_handler(late, 20_000)


def _with_sqlite_deadlines(engine: Engine, seconds: float) -> None:
    dialect: Any = engine.dialect
    deadlines = _SQLITE_DEADLINES

    for name in ("do_execute", "do_execute_no_params", "do_executemany"):
        original = getattr(dialect, name)

        def guarded(cursor: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            key = id(cursor.connection)
            deadlines[key] = time.monotonic() + _timeout(seconds)
            try:
                return __original(cursor, *args, **kwargs)
            finally:
                deadlines[key] = 0.0

        setattr(dialect, name, guarded)


def sqlite_file(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):  # a URI filename (uri=true), e.g. file:/data/kb.sqlite3?mode=ro
        path = url.database[len("file:") :].split("?", 1)[0]
        return None if not path or path == ":memory:" else Path(path)
    return Path(url.database)


def breaker_of(engine: Engine) -> Breaker | None:
    return getattr(engine.pool, "breaker", None)


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured store, with timeouts and a breaker; SQLite gets WAL, foreign keys and a
    busy timeout."""
    breaker = Breaker(failures=settings.db_breaker_failures, reset=settings.db_breaker_reset)
    pool_class = type("GuardedQueuePool", (GuardedQueuePool,), {"breaker": breaker})
    common: dict[str, Any] = {
        "hide_parameters": True,
        "poolclass": pool_class,
        "pool_timeout": settings.db_pool_timeout,
    }
    if settings.is_sqlite:
        path = sqlite_file(settings.database_url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # the store is away, not the process: readiness reports it
                log.warning("cannot create the store's folder: %s", type(exc).__name__)
        else:  # in memory: SQLAlchemy's own pool keeps the one database (no breaker needed)
            common = {"hide_parameters": True}
        busy = settings.sqlite_busy_timeout_ms
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": busy / 1000},
            **common,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            _interrupt_when_late(dbapi_connection)

        @event.listens_for(engine, "close")
        def _forget(dbapi_connection: Any, _record: Any) -> None:
            _SQLITE_DEADLINES.pop(id(dbapi_connection), None)

        _with_sqlite_deadlines(engine, settings.db_statement_timeout)

    else:
        statement_ms = int(settings.db_statement_timeout * 1000)
        url = make_url(settings.database_url)
        options = f"-c statement_timeout={statement_ms}"
        given = url.query.get("options")  # the URL's own options are kept, ours added
        if given:
            options = f"{given if isinstance(given, str) else ' '.join(given)} {options}"
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={
                "connect_timeout": max(2, math.ceil(settings.db_connect_timeout)),
                "options": options,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 3,
                "keepalives_count": 3,
                "tcp_user_timeout": statement_ms,
            },
            **common,
        )
        # The server's own statement_timeout answers first while it is alive; the watchdog covers a server
        # (or network) that no longer answers at all.
        _with_deadlines(engine, settings.db_statement_timeout + 1.0, min(2.0, settings.db_connect_timeout))

        @event.listens_for(engine, "checkout")
        def _longer(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            override: float | None = getattr(_overrides, "seconds", None)
            if override is not None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {int(override * 1000)}")
                dbapi_connection.commit()
                record.info["statement_timeout_set"] = True

        @event.listens_for(engine, "checkin")
        def _back(dbapi_connection: Any, record: Any) -> None:
            if record.info.pop("statement_timeout_set", False) and dbapi_connection is not None:
                try:
                    with dbapi_connection.cursor() as cursor:
                        cursor.execute("RESET statement_timeout")
                    dbapi_connection.commit()
                except Exception:  # a broken connection is discarded by the pool anyway
                    record.invalidate()

    @event.listens_for(engine, "handle_error")
    def _count_disconnects(context: Any) -> None:
        if context.connection is not None and context.is_disconnect:
            breaker.failure()

    return engine
