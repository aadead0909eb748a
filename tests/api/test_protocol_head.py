"""The status line and headers ``ldn-kb serve`` writes (app/api/protocol.py ``CheckedHeadCycle``) are byte for
byte uvicorn's own: the same ASGI app served over loopback by uvicorn's httptools protocol and by ours, asked
the same requests on raw sockets (keep-alive, pipelined, HTTP/1.0, HEAD, 204 and 304, headers uvicorn must
handle itself, headers it refuses), answers the same bytes and closes the same connections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.api import protocol
from app.api.protocol import GuardedHttpToolsProtocol

SECURITY = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]

#: What the app answers per path: status and headers (the body is "hello" unless the status has none).
ANSWERS: dict[str, tuple[int, list[Any]]] = {
    "/length": (
        200,
        [(b"content-type", b"application/json"), (b"content-length", b"5"), *SECURITY, (b"x-request-id", b"r-1")],
    ),
    "/no-length": (200, [(b"content-type", b"text/plain"), *SECURITY]),  # uvicorn chunks it
    "/two-lengths": (200, [(b"content-length", b"5"), (b"Content-Length", b"7"), *SECURITY]),
    "/upper": (201, [(b"Content-Type", b"text/plain"), (b"Content-Length", b"5"), (b"X-Thing", b"A b\tc")]),
    "/chunked": (200, [(b"transfer-encoding", b"chunked"), *SECURITY]),
    "/close": (200, [(b"content-length", b"5"), (b"connection", b"close")]),
    "/keep": (200, [(b"connection", b"keep-alive"), (b"content-length", b"5")]),
    "/lists": (200, [[b"content-length", b"5"], [b"x-list", b"yes"]]),  # ASGI allows any pair
    "/204": (204, [*SECURITY]),
    "/304": (304, [(b"etag", b'"abc"'), *SECURITY]),
    "/599": (599, [(b"content-length", b"5")]),
    "/bad-name": (200, [(b"content-length", b"5"), (b"bad name", b"x")]),
    "/bad-value": (200, [(b"content-length", b"5"), (b"x-bad", b"line\nbreak")]),
    "/nul-value": (200, [(b"content-length", b"5"), (b"x-bad", b"a\x00b")]),
    "/obs-text": (200, [(b"content-length", b"5"), (b"x-latin", "é".encode("latin-1"))]),
    "/stream": (200, [(b"content-length", b"10"), *SECURITY]),  # the body in two parts
    "/stream-chunked": (200, [*SECURITY]),
    "/short": (200, [(b"content-length", b"9"), *SECURITY]),  # a body shorter than its length: uvicorn raises
}
STREAMED = {"/stream", "/stream-chunked"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    status, headers = ANSWERS[scope["path"]]
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["path"] in STREAMED:
            await send({"type": "http.response.body", "body": b"hello", "more_body": True})
        await send({"type": "http.response.body", "body": b"" if status in (204, 304) else b"hello"})
    except RuntimeError:  # a header uvicorn refuses, a body short of its length: it closes the connection
        pass


async def serve(protocol_class: type[HttpToolsProtocol]) -> tuple[asyncio.AbstractServer, int]:
    config = Config(app=app, lifespan="off", access_log=False, log_level="critical")
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Sat, 28 Nov 2026 12:00:00 GMT"), (b"server", b"uvicorn")]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: protocol_class(config, state, {}, loop), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def exchange(port: int, raw: bytes) -> bytes:
    """Everything the server writes back to ``raw`` until it closes or goes quiet for a moment."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    out = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 0.3):
            out += chunk
        out += b"<closed>"
    except TimeoutError:
        out += b"<open>"
    writer.close()
    return out


def get(path: str, version: str = "1.1", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/{version}\r\nHost: t\r\n\r\n".encode()


REQUESTS = [
    *(get(path) for path in ANSWERS),
    *(get(path, version="1.0") for path in ("/length", "/no-length", "/keep", "/204")),
    *(get(path, method="HEAD") for path in ("/length", "/no-length", "/304")),
    get("/length") + get("/no-length") + get("/upper") + get("/close") + get("/length"),  # pipelined
    get("/lists") + get("/two-lengths") + get("/bad-value"),
    get("/stream") + get("/stream-chunked") + get("/length", method="HEAD") + get("/length"),
]


def test_our_head_is_uvicorns_byte_for_byte() -> None:
    async def both() -> tuple[list[bytes], list[bytes]]:
        theirs, their_port = await serve(HttpToolsProtocol)
        ours, our_port = await serve(GuardedHttpToolsProtocol)
        try:
            protocol._CHECKED_LINES.clear()
            want: list[bytes] = []
            got: list[bytes] = []
            for _ in range(2):  # the second time from the checked lines kept
                want += await asyncio.gather(*(exchange(their_port, raw) for raw in REQUESTS))
                got += await asyncio.gather(*(exchange(our_port, raw) for raw in REQUESTS))
            return want, got
        finally:
            theirs.close()
            ours.close()

    want, got = asyncio.run(both())
    for request, expected, answered in zip(REQUESTS * 2, want, got, strict=True):
        assert answered == expected, request
    # The answers went through our cycle: it kept the lines it checked, and only those it may keep.
    kept = protocol._CHECKED_LINES
    assert kept[(b"x-content-type-options", b"nosniff")] == b"x-content-type-options: nosniff\r\n"
    assert kept[(b"Content-Type", b"text/plain")] == b"content-type: text/plain\r\n"
    assert not any(
        name.lower() in (b"content-length", b"connection", b"transfer-encoding", b"x-request-id") for name, _ in kept
    )
    assert (b"x-bad", b"line\nbreak") not in kept
    # uvicorn refused those headers and closed; the chunked answer was chunked
    assert want[REQUESTS.index(get("/bad-value"))] == b"<closed>"
    assert b"transfer-encoding: chunked\r\n" in want[REQUESTS.index(get("/no-length"))]


def test_the_kept_lines_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "CHECKED_LINES_KEPT", 8)
    protocol._CHECKED_LINES.clear()
    for n in range(20):
        head = protocol.head_lines([(b"x-n", str(n).encode()), (b"content-length", b"5")])
        assert head == ([f"x-n: {n}\r\n".encode(), b"content-length: 5\r\n"], 5)
        assert len(protocol._CHECKED_LINES) <= 8
    assert protocol.head_lines([(b"x", b"1"), (b"connection", b"close")]) is None
    assert protocol.head_lines([(b"bad name", b"1")]) is None
