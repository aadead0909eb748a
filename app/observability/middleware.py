"""The request instrumentation: a pure ASGI middleware, outermost in FastAPI's stack, cheap.

Per HTTP request it takes or makes a request id (echoed in ``X-Request-ID``), counts the request in
flight, times it, and at the end hands (route template, method, status, duration) to the
:class:`~app.observability.observer.RequestObserver`, which records the metrics and the access-log line.
The route template is read from ``scope["route"]`` after routing.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.logging import request_id_var
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver


class InstrumentationMiddleware:
    def __init__(self, app: ASGIApp, *, observer: RequestObserver) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observer = self.observer
        client_id = next((value for name, value in scope["headers"] if name == REQUEST_ID_HEADER), None)
        request_id = observer.request_id(client_id)
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        root_path: str = scope.get("root_path", "")
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        metrics = observer.metrics
        metrics.request_started()
        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status == 0:
                status = 500
            raise
        except BaseException:  # cancelled: the client went away
            if status == 0:
                status = 499
            raise
        finally:
            request_id_var.reset(token)
            metrics.request_ended()
            route = observer.route_template(scope, root_path)
            observer.finished(request_id, scope["method"], route, status, time.perf_counter() - started)
