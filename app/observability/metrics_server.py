"""``/metrics`` on a listener of its own (``LDNKB_METRICS_PORT``), apart from the public port.

Started by the app's lifespan inside each worker's event loop. The socket is bound with ``SO_REUSEPORT``
so that every worker of ``ldn-kb serve --workers N`` can listen on the one port (with
``PROMETHEUS_MULTIPROC_DIR`` set, any worker renders the sum of all).
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from starlette.types import Receive, Scope, Send

_NOT_FOUND = b'{"type":"/problems/not-found","title":"Not found","status":404,"detail":"Only /metrics here."}'


def metrics_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


class MetricsApp:
    """A minimal ASGI app: ``GET /metrics`` renders the service's metrics; anything else is a 404."""

    def __init__(self, service: Any) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        from app.api.health import render_metrics

        if scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD"):
            response = render_metrics(self.service)
            await response(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"application/problem+json"), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": _NOT_FOUND})


async def serve_metrics(service: Any, host: str, port: int) -> None:
    """Serve :class:`MetricsApp` on ``host:port`` until cancelled."""
    import uvicorn

    config = uvicorn.Config(MetricsApp(service), log_config=None, access_log=False, lifespan="off", ws="none")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # the service's server owns them
    sock = metrics_socket(host, port)
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
