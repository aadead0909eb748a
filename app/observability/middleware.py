"""The request instrumentation: a pure ASGI middleware, outermost, cheap.

Per HTTP request it takes or makes a request id (echoed in ``X-Request-ID``), counts the request in
flight, times it, and at the end records the counter and histogram children of its (route template,
method, status) and writes one access-log line. Label children are created once per label set and
reused; the route template is read from ``scope["route"]`` after routing, so metrics never carry raw
paths. Responses answered by the response cache before routing are resolved to their template once
per path (memoised, bounded).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.logging import AccessLog, request_id_var
from app.observability.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
_RESOLVED_MAX = 4096


def sane_request_id(value: bytes) -> bool:
    """At most 128 characters of ``[A-Za-z0-9._-]``: safe to log and to echo back."""
    return _SANE_ID.fullmatch(value) is not None


class InstrumentationMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: AccessLog) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self._prefix = secrets.token_hex(6)
        self._ids = itertools.count(1)
        self._resolved: dict[str, str] = {}

    def new_request_id(self) -> str:
        """Unique per process (random prefix) and per request (counter): cheaper than a UUID."""
        return f"{self._prefix}-{next(self._ids):x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id: str | None = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if _SANE_ID.fullmatch(value) is not None:
                    request_id = value.decode("ascii")
                break
        if request_id is None:
            request_id = self.new_request_id()
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

        metrics = self.metrics
        gauge = metrics.in_flight_gauge
        metrics.in_flight += 1
        if gauge is not None:
            gauge.inc()
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
            metrics.in_flight -= 1
            if gauge is not None:
                gauge.dec()
            duration = time.perf_counter() - started
            route = self.route_template(scope, root_path)
            method: str = scope["method"]
            counter, histogram = metrics.children(route, method, status)
            counter.inc()
            histogram.observe(duration)
            access_log = self.access_log
            if access_log.active():
                access_log.write(request_id, method, route, status, round(duration * 1000, 3))

    def route_template(self, scope: Scope, root_path: str) -> str:
        """The matched route's path template (with any mount prefix), or ``unmatched``."""
        route: Any = scope.get("route")
        path: str = scope["path"]
        if route is None:
            found = self._resolved.get(path)
            return found if found is not None else self._resolve(scope)
        template: str = route.path
        inner_root: str = scope.get("root_path", "")
        if inner_root is not root_path and inner_root != root_path:
            template = inner_root[len(root_path) :] + template
        if path not in self._resolved:  # remembered for cache hits, which skip routing
            self._remember(path, template)
        return template

    def _remember(self, path: str, template: str) -> None:
        if len(self._resolved) >= _RESOLVED_MAX:
            self._resolved.clear()
        self._resolved[path] = template

    def _resolve(self, scope: Scope) -> str:
        """Routing did not run here (a cache hit, or HEAD routed on a copy of the scope) and the path was
        not seen routed before: match it against the app's routes once and remember the answer."""
        probe = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""), "method": "GET"}
        try:
            found = _match(getattr(scope.get("app"), "routes", ()), probe)
        except Exception:  # a router shape we do not know: never fail a request over a label
            found = None
        template = found or UNMATCHED
        self._remember(scope["path"], template)
        return template


def _match(routes: Any, probe: Scope) -> str | None:
    """The template of the first route matching ``probe`` (FULL first, else the first PARTIAL)."""
    partial: str | None = None
    for candidate in routes:
        path = getattr(candidate, "path", None)
        if path is None:  # an included router kept whole by FastAPI: look at its own routes
            inner = getattr(getattr(candidate, "original_router", None), "routes", None)
            found = _match(inner, probe) if inner is not None else None
            if found is not None:
                return found
            continue
        match, _ = candidate.matches(probe)
        if match is Match.FULL:
            return str(path)
        if match is Match.PARTIAL and partial is None:
            partial = str(path)
    return partial
