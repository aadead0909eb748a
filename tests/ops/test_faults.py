"""The fault suite (issue 13): real `ldn-kb serve` processes on free loopback ports, abused and broken.

* request limits at the server: 431, 414, 400 as problem+json, a 16 MB header cut off early, slow
  headers and slow bodies answered 408 and closed, an endless body cut off at the cap, many slow clients
  closed while the service keeps answering;
* a 500 on a keep-alive connection: well-formed, with the security headers and the request id, the next
  pipelined request answered, one traceback in the log;
* a read-only SQLite store: not ready, reads served, writes 503, no request body in the log;
* a PostgreSQL outage through a local TCP proxy (refuse, then blackhole): fast 503s, readiness without
  addresses, recovery; a process started without its database stays up, not ready, until it appears;
* kill -9 under a write load, restart, and every acknowledged write found.

Timings are printed (``-s`` shows them) for the issue's closing note.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.bootstrap import prepare_store
from app.db import make_engine
from app.settings import Settings
from tests.conftest import PG_ENV, _drop_postgres, _fresh_postgres, fresh_store
from tests.ops.server import BIN, ROOT, Server, free_port, running, service_env
from tests.ops.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

FEEDBACK = "/cds-services/ldn-kb-order-sign/feedback"
SECRET = "a-comment-that-must-never-reach-a-log"


def feedback(card: str) -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-26T12:00:00Z",
                "overrideReason": {
                    "reason": {"system": "urn:ldn-kb:cds-override-reason", "code": "dose-confirmed"},
                    "userComment": SECRET,
                },
            }
        ]
    }


@contextmanager
def serve(tmp_path: Path, name: str, **env: str) -> Iterator[Server]:
    command = [str(BIN / "ldn-kb"), "serve", "--port", "{port}", "--app", "tests.ops.slow_app:create"]
    with running(
        command, env=service_env(PYTHONPATH=str(ROOT), **env), cwd=ROOT, log=tmp_path / f"{name}.log"
    ) as server:
        yield server


def wait_up(server: Server) -> None:
    server.wait_ready("/healthz")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def exchange(port: int, data: bytes, *, wait: float = 5.0) -> tuple[bytes, float]:
    """Send ``data`` on a new connection, read until the server closes it; (bytes read, seconds taken)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        if data:
            sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received, time.monotonic() - started


def status_and_body(raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    return status, headers, body


def assert_problem(raw: bytes, status: int, slug: str) -> dict[bytes, bytes]:
    got, headers, body = status_and_body(raw)
    assert got == status, raw[:500]
    assert headers[b"content-type"] == b"application/problem+json", headers
    assert orjson.loads(body)["type"] == f"/problems/{slug}"
    return headers


# --- request limits at the server (row 9), a 500 on a keep-alive connection (rows 5, 6, 8) ---------------


def test_request_limits_and_errors_on_the_wire(tmp_path: Path) -> None:
    metrics_port = free_port()
    env = {
        "LDNKB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}",
        "LDNKB_HEADER_READ_TIMEOUT": "1",
        "LDNKB_BODY_READ_TIMEOUT": "1",
        "LDNKB_KEEP_ALIVE_TIMEOUT": "1",
        "LDNKB_METRICS_PORT": str(metrics_port),
    }
    with serve(tmp_path, "limits", **env) as server:
        server.wait_ready()
        port = server.url.rsplit(":", 1)[1]
        port_n = int(port)
        rss_start = rss_kb(server.process.pid)

        raw, _ = exchange(port_n, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert assert_problem(raw, 431, "headers-too-large")[b"connection"] == b"close"

        # A body that will be refused (415) is never asked for: no 100 Continue before the refusal.
        for target, content_type in ((b"/v1/dose-check", b"text/plain"), (b"/cds-services/ldn-kb-order-sign", b"")):
            asked = b"POST " + target + b" HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
            asked += b"Content-Type: " + content_type + b"\r\n" if content_type else b""
            raw, _ = exchange(port_n, asked + b"Expect: 100-continue\r\nConnection: close\r\n\r\n", wait=3)
            assert not raw.startswith(b"HTTP/1.1 100"), raw[:200]
            assert_problem(raw, 415, "unsupported-media-type")
        # A JSON body is asked for (and, never sent, times out as the body limit says).
        asked = b"POST /v1/dose-check HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
        raw, _ = exchange(port_n, asked + b"Content-Type: application/json\r\nExpect: 100-continue\r\n\r\n", wait=3)
        assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), raw[:200]
        raw, _ = exchange(port_n, b"GET /v1/regimens?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert_problem(raw, 414, "uri-too-long")
        raw, _ = exchange(port_n, b"NOT HTTP AT ALL\r\n\r\n")
        assert_problem(raw, 400, "bad-request")
        # A valid request, then garbage in the same packet: the first is answered before the 400.
        for first in (b"GET /healthz", b"GET /v1/regimens?limit=1", b"GET /v1/nothing-here"):
            raw, _ = exchange(port_n, first + b" HTTP/1.1\r\nHost: localhost\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
            answered, _, rest = raw.partition(b"\r\n\r\n")
            assert answered.startswith((b"HTTP/1.1 200", b"HTTP/1.1 404")), (first, raw[:300])
            assert b"HTTP/1.1 400 " in rest, (first, raw[-400:])
            assert_problem(rest[rest.index(b"HTTP/1.1 400 ") :], 400, "bad-request")
        # An HTTP version this server does not speak is refused as such, not answered as HTTP/1.1 (versions
        # the parser itself does not know, 3.0 or 1.2, are not HTTP/1.x requests at all: a 400).
        for version, status, slug in (
            (b"HTTP/2.0", 505, "http-version-not-supported"),
            (b"HTTP/0.9", 505, "http-version-not-supported"),
            (b"HTTP/3.0", 400, "bad-request"),
        ):
            raw, _ = exchange(port_n, b"GET /healthz " + version + b"\r\nHost: localhost\r\n\r\n")
            assert_problem(raw, status, slug)

        # A 16 MB header: refused after the first few tens of kilobytes, not read to the end.
        sent = 0
        with socket.create_connection(("127.0.0.1", port_n), timeout=5) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Huge: ")
                for _ in range(256):
                    sock.sendall(b"a" * 65536)
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
        print(f"\n16 MB header: connection closed after {sent // 1024} KB sent")
        assert sent < 8 * 1024 * 1024

        # An idle keep-alive connection is closed after its answer (LDNKB_KEEP_ALIVE_TIMEOUT).
        raw, took = exchange(port_n, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert raw.startswith(b"HTTP/1.1 200") and raw.count(b"HTTP/1.1") == 1 and took < 3

        # Slow headers, an idle new connection, a slow body: 408 and closed, within the timeouts.
        raw, took = exchange(port_n, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        assert_problem(raw, 408, "request-timeout")
        assert took < 3
        raw, took = exchange(port_n, b"")
        assert_problem(raw, 408, "request-timeout")
        assert took < 3
        # A slow head on a kept-alive connection, begun before and after the connection's first head timeout
        # would have run out: each head gets its whole read time (1 s) from its first byte, no less, no more.
        for pause in (0.4, 0.8):
            with socket.create_connection(("127.0.0.1", port_n), timeout=5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
                time.sleep(pause)
                began = time.monotonic()
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                raw = b""
                while chunk := sock.recv(65536):
                    raw += chunk
                took = time.monotonic() - began
            assert_problem(raw, 408, "request-timeout")
            assert 0.9 <= took < 2, f"second head refused {took:.2f} s after it began (pause {pause} s)"
        head = f"POST {FEEDBACK} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        raw, took = exchange(port_n, head.encode() + b'{"feedback": ')
        headers = assert_problem(raw, 408, "request-timeout")
        assert headers[b"x-request-id"] and headers[b"x-content-type-options"] == b"nosniff"
        assert took < 3
        # A dose check or CDS call whose body the front door starts to read: the same one read time (1 s), not
        # a second one when the door hands it to the guard.
        for path in ("/v1/dose-check", "/cds-services/ldn-kb-order-sign"):
            head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            raw, took = exchange(port_n, head.encode() + b'{"amount": ')
            assert_problem(raw, 408, "request-timeout")
            assert took < 1.85, f"{path}: 408 after {took:.2f} s (a second read time would make it 2 s)"

        # An endless chunked body: 413 once past the cap, the connection closed.
        sent = 0
        answer = b""
        with socket.create_connection(("127.0.0.1", port_n), timeout=5) as sock:
            sock.sendall(
                f"POST {FEEDBACK} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n".encode()
            )
            try:
                for _ in range(1600):  # 100 MB if it were all taken
                    sock.sendall(b"10000\r\n" + b" " * 65536 + b"\r\n")
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except (TimeoutError, ConnectionResetError):
                pass
        print(f"endless body: {sent // 1024} KB sent before the server closed")
        assert sent < 16 * 1024 * 1024
        if answer:  # the answer may be lost to the reset when the client was still sending
            assert_problem(answer, 413, "payload-too-large")

        # A 500 on a keep-alive connection: well-formed, with our headers; the pipelined request is answered.
        raw, _ = exchange(
            port_n,
            b"GET /test/boom HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        assert raw.count(b"HTTP/1.1 ") == 2, raw
        first = raw[: raw.index(b"HTTP/1.1 ", 1)]
        headers = assert_problem(first, 500, "internal-error")
        assert headers[b"x-request-id"] and headers[b"x-content-type-options"] == b"nosniff"
        assert b"HTTP/1.1 200" in raw[len(first) :]

        # Many slow clients at once: the service keeps answering; every one is closed within the timeout.
        slow = [socket.create_connection(("127.0.0.1", port_n), timeout=5) for _ in range(200)]
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        assert httpx.get(server.url + "/healthz", timeout=2).status_code == 200
        busy = time.monotonic() - started
        closed = 0
        for sock in slow:
            try:
                data = sock.recv(4096)
                closed += data.startswith(b"HTTP/1.1 408") or data == b""
            except (TimeoutError, ConnectionResetError):
                pass
            sock.close()
        waited = time.monotonic() - started
        print(f"200 slow clients: /healthz in {busy * 1000:.0f} ms meanwhile; {closed} closed in {waited:.1f} s")
        assert closed == 200 and waited < 5

        # A feedback flood from one client (row 1): stored up to the rate limit (60 a minute), the rest 429.
        counts = {200: 0, 429: 0, "other": 0}
        until = time.monotonic() + 3

        def flood() -> None:
            with httpx.Client(base_url=server.url, timeout=5) as client:
                n = 0
                while time.monotonic() < until:
                    n += 1
                    status = client.post(FEEDBACK, json=feedback(f"flood-{threading.get_ident()}-{n}")).status_code
                    key: Any = status if status in counts else "other"
                    counts[key] += 1

        flooders = [threading.Thread(target=flood) for _ in range(4)]
        for thread in flooders:
            thread.start()
        for thread in flooders:
            thread.join()
        with sqlite3.connect(tmp_path / "kb.sqlite3") as db:
            stored = db.execute("SELECT count(*) FROM cds_feedback WHERE card LIKE 'flood-%'").fetchone()[0]
        print(f"feedback flood, 3 s, 4 connections: {counts[200]} stored, {counts[429]} refused (429)")
        assert counts["other"] == 0 and counts[429] > counts[200]
        assert stored == counts[200] <= 60 + 4

        # /metrics on its own port, with the Python version; 404 on the public one.
        assert httpx.get(server.url + "/metrics").status_code == 404
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scrape.status_code == 200 and 'python="3.' in scrape.text
        rss_end = rss_kb(server.process.pid)
        print(f"RSS {rss_start // 1024} MB at start, {rss_end // 1024} MB after the abuse")
        assert rss_end < 200 * 1024
    lines = server.lines()
    tracebacks = [line for line in lines if "Traceback" in str(line.get("exception", ""))]
    assert len(tracebacks) == 1, tracebacks  # the 500: logged once
    assert "RuntimeError" in str(tracebacks[0]["exception"])
    assert not any("Exception in ASGI application" in str(line.get("message")) for line in lines)


# --- a read-only SQLite store (row 10) ---------------------------------------------------------------


def test_read_only_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite3"
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = make_engine(settings)
    prepare_store(engine, settings)
    engine.dispose()
    env = {"LDNKB_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    with serve(tmp_path, "read-only", **env) as server:
        wait_up(server)
        ready = httpx.get(server.url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["writes"] == {
            "status": "failed",
            "reason": "read-only",
            "error": "OperationalError",
        }
        assert str(tmp_path) not in ready.text
        assert httpx.get(server.url + "/v1/regimens").status_code == 200
        stored = httpx.post(server.url + FEEDBACK, json=feedback("ro-1"))
        assert stored.status_code == 503, stored.text
        assert stored.json()["type"] == "/problems/store-unavailable"
        assert stored.headers["retry-after"].isdigit()
        assert stored.headers["x-request-id"]
    log = server.log.read_text()
    assert SECRET not in log and "Traceback" not in log


# --- PostgreSQL outage through a TCP proxy (row 3) ---------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL fault tests skipped: set {PG_ENV} to a PostgreSQL URL to enable them")
    url, name = _fresh_postgres(base)
    try:
        yield url
    finally:
        _drop_postgres(base, name)


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def proxy_for(url: str, mode: Any = "forward") -> TcpProxy:
    parsed = make_url(url)
    return TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432, mode)


OUTAGE_ENV = {
    "LDNKB_DB_CONNECT_TIMEOUT": "2",
    "LDNKB_DB_STATEMENT_TIMEOUT": "2",
    "LDNKB_DB_POOL_TIMEOUT": "2",
    "LDNKB_DB_BREAKER_FAILURES": "2",
    "LDNKB_DB_BREAKER_RESET": "2",
    "LDNKB_STORE_RETRY_INTERVAL": "0.5",
    "LDNKB_CONTENT_CHECK_INTERVAL": "0.5",
}


def timed_get(url: str, timeout: float = 20) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=timeout)
    return response, time.monotonic() - started


def wait_for(url: str, status: int, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if httpx.get(url, timeout=10).status_code == status:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not {status} within {within}s")


def test_postgres_outage_refused_then_blackholed(postgres: str, tmp_path: Path) -> None:
    proxy = proxy_for(postgres)
    env = {"LDNKB_DATABASE_URL": through(proxy, postgres), **OUTAGE_ENV}
    try:
        with serve(tmp_path, "outage", **env) as server:
            server.wait_ready()
            fresh = iter(range(1, 101))  # a new query string each time: never a cache hit

            def uncached() -> tuple[httpx.Response, float]:
                # The changes feed reads the store on every uncached request (records come from memory).
                return timed_get(f"{server.url}/v1/changes?limit={next(fresh)}")

            assert uncached()[0].status_code == 200
            for mode in ("refuse", "blackhole"):
                proxy.set_mode(mode)
                answers = [uncached() for _ in range(8)]
                times = [took for _, took in answers]
                for response, _ in answers:
                    assert response.status_code == 503, response.text
                    assert response.json()["type"] == "/problems/store-unavailable"
                    assert response.headers["retry-after"] == "2"
                # Records, FHIR, Infobutton and search are answered from the read model in memory all through
                # the outage (issue 12).
                for path in (
                    f"/v1/indications?limit={next(fresh)}",
                    f"/fhir/R4/MedicationKnowledge?_count={next(fresh)}",
                    f"/infobutton?mainSearchCriteria.v.c=M79.7&age.v.v={next(fresh)}",
                    f"/v1/search?q=naltrexone&limit={next(fresh)}",
                ):
                    answer, _ = timed_get(server.url + path)
                    assert answer.status_code == 200, (path, answer.text)
                ready, ready_took = timed_get(server.url + "/readyz")
                assert ready.status_code == 503
                for leak in ("127.0.0.1", str(proxy.port), "5432", "psycopg", "connection to server"):
                    assert leak not in ready.text, (leak, ready.text)
                _, metrics_took = timed_get(server.url + "/metrics")
                print(
                    f"\n{mode}: 503 times first {times[0]:.2f} s, median {statistics.median(times):.3f} s, "
                    f"max {max(times):.2f} s; /readyz {ready_took:.2f} s; /metrics {metrics_took:.3f} s"
                )
                assert max(times) < 6 and statistics.median(times) < 0.5
                assert ready_took < 6 and metrics_took < 1
                proxy.set_mode("forward")
                recovered = wait_for(f"{server.url}/readyz", 200, 20)
                response, _ = uncached()
                assert response.status_code == 200
                print(f"{mode}: ready again {recovered:.2f} s after the store came back")
            assert server.process.poll() is None
    finally:
        proxy.close()


@pytest.mark.parametrize("auto_migrate", ["true", "false"])
def test_start_without_the_database(postgres: str, tmp_path: Path, auto_migrate: str) -> None:
    if auto_migrate == "false":  # a read replica: the store is prepared elsewhere
        settings = Settings(database_url=postgres)
        engine = make_engine(settings)
        prepare_store(engine, settings)
        engine.dispose()
    proxy = proxy_for(postgres, "refuse")
    env = {
        "LDNKB_DATABASE_URL": through(proxy, postgres),
        "LDNKB_AUTO_MIGRATE": auto_migrate,
        "LDNKB_AUTO_LOAD_CONTENT": auto_migrate,
        **OUTAGE_ENV,
    }
    try:
        with serve(tmp_path, f"absent-{auto_migrate}", **env) as server:
            wait_up(server)
            ready, took = timed_get(server.url + "/readyz")
            assert ready.status_code == 503 and took < 5
            body = ready.json()
            assert body["checks"]["database"]["status"] == "failed"
            assert body["checks"]["database"]["reason"] in ("unreachable", "circuit breaker open")
            assert "127.0.0.1" not in ready.text and str(proxy.port) not in ready.text
            time.sleep(1.5)
            assert server.process.poll() is None, "the process exited without its database"
            proxy.set_mode("forward")
            recovered = wait_for(server.url + "/readyz", 200, 30)
            print(f"\nauto_migrate={auto_migrate}: ready {recovered:.2f} s after the database appeared")
            assert httpx.get(server.url + "/v1/regimens").status_code == 200
    finally:
        proxy.close()


# --- kill -9 under a write load ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store(request.param, tmp_path) as url:
        yield url


def test_kill_9_under_load_loses_no_acknowledged_write(store: str, tmp_path: Path) -> None:
    url = store
    env = {"LDNKB_DATABASE_URL": url, "LDNKB_RATE_LIMIT_FEEDBACK": "0"}
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(n: int, base: str) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            for i in range(100_000):
                if stop.is_set():
                    return
                card = f"kill-{n}-{i}"
                try:
                    if client.post(FEEDBACK, json=feedback(card)).status_code == 200:
                        acknowledged.append(card)
                except httpx.TransportError:
                    return

    with serve(tmp_path, "killed", **env) as server:
        server.wait_ready()
        threads = [threading.Thread(target=writer, args=(n, server.url)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        stop.set()
        for thread in threads:
            thread.join(10)
    with serve(tmp_path, "restarted", **env) as server:
        started = time.monotonic()
        server.wait_ready()
        print(
            f"\nkill -9: {len(acknowledged)} writes acknowledged; ready {time.monotonic() - started:.2f} s after restart"
        )
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = {row[0] for row in connection.execute(text("SELECT card FROM cds_feedback WHERE card LIKE 'kill-%'"))}
    engine.dispose()
    assert acknowledged and set(acknowledged) <= stored, len(set(acknowledged) - stored)
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
