"""The ceiling: a raw ASGI callable answering every GET with constant bytes, run under uvicorn with the
same flags as ``ldn-kb serve``.

Body sizes come from ``BENCH_BODY_SIZES``, a comma list of ``/path=bytes`` (the harness passes the sizes
of our own responses, so each endpoint is compared with a constant body of the same size); any other path
gets ``BENCH_BODY_SIZE`` bytes (default 4096). ``BENCH_BUSY_US``, a comma list of ``/path=microseconds``,
makes those paths read the request body and keep the CPU busy that long before answering: the harness
passes our own median in-app time per POST endpoint, so the ceiling shows what the same work per request
costs in latency under the same load. Run: ``uvicorn bench.bare_asgi:app --port 8002``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _body(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes (at least 12)."""
    size = max(size, 12)
    return b'{"data":"' + b"x" * (size - 11) + b'"}'


def _responses() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    sizes = {"*": int(os.environ.get("BENCH_BODY_SIZE", "4096"))}
    for item in filter(None, os.environ.get("BENCH_BODY_SIZES", "").split(",")):
        path, _, size_text = item.partition("=")
        sizes[path.strip()] = int(size_text)
    out = {}
    for path, size in sizes.items():
        body = _body(size)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        out[path] = (
            {"type": "http.response.start", "status": 200, "headers": headers},
            {
                "type": "http.response.body",
                "body": body,
            },
        )
    return out


def _busy() -> dict[str, float]:
    out = {}
    for item in filter(None, os.environ.get("BENCH_BUSY_US", "").split(",")):
        path, _, micros = item.partition("=")
        out[path.strip()] = float(micros) / 1e6
    return out


RESPONSES = _responses()
DEFAULT = RESPONSES["*"]
BUSY = _busy()


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    start, body = RESPONSES.get(scope["path"], DEFAULT)
    seconds = BUSY.get(scope["path"])
    if seconds is not None:
        while (await receive()).get("more_body"):
            pass
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            pass
    await send(start)
    await send(body)
