"""What every HTTP request leaves behind: its request id, its metrics, its access-log line.

Shared by the instrumentation middleware (requests that go through FastAPI's stack) and the front door
(cache hits and 304s answered before it), so both count and log alike. Label children are created once
per label set and reused; route templates are memoised per path (bounded), so metrics never carry raw
paths.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import re
import secrets
import time
import weakref
from collections.abc import Callable
from typing import Any

from starlette.routing import Match
from starlette.types import Scope

from app.observability.logging import AccessLog, RequestRecord
from app.observability.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
_RESOLVED_MAX = 4096


class RequestObserver:
    """Request ids, route templates, and the record of every finished request.

    :meth:`finished` only appends the request to a batch; :meth:`flush` counts the batch into the metrics
    and writes its access-log lines, in one tight loop. A batch is flushed when ``batch`` requests wait,
    ``flush_interval`` seconds after its first request (a timer on the running event loop), before
    ``/metrics`` renders, at shutdown and at interpreter exit. Counting and logging each request as it
    ended cost a cached answer a third of its time under load; so ``/metrics`` of another worker and the
    log can be up to ``flush_interval`` behind. Outside an event loop every request is flushed at once.
    """

    def __init__(
        self, *, metrics: Metrics, access_log: AccessLog, batch: int = 256, flush_interval: float = 0.1
    ) -> None:
        self.metrics = metrics
        self.access_log = access_log
        self.batch = batch
        self.flush_interval = flush_interval
        self._prefix = secrets.token_hex(6)
        self._ids = itertools.count(1)
        self._resolved: dict[str, str] = {}
        self._records: list[RequestRecord] = []
        atexit.register(_flush_at_exit, weakref.WeakMethod(self.flush))

    def new_request_id(self) -> str:
        """Unique per process (random prefix) and per request (counter): cheaper than a UUID."""
        return f"{self._prefix}-{next(self._ids):x}"

    def request_id(self, client_value: bytes | None) -> str:
        """The client's ``X-Request-ID`` when it is sane (at most 128 characters of ``[A-Za-z0-9._-]``: safe to
        log and to echo back), else a new one."""
        if client_value is not None and _SANE_ID.fullmatch(client_value) is not None:
            return client_value.decode("ascii")
        return self.new_request_id()

    def finished(self, request_id: str, method: str, route: str, status: int, duration: float) -> None:
        """Record one finished request (counted and logged at the next flush)."""
        records = self._records
        records.append((time.time(), request_id, method, route, status, duration))
        if len(records) >= self.batch:
            self.flush()
        elif len(records) == 1:
            try:
                asyncio.get_running_loop().call_later(self.flush_interval, self.flush)
            except RuntimeError:  # no event loop here: nothing would flush later
                self.flush()

    def flush(self) -> None:
        """Count the waiting requests under their route templates and write their access-log lines."""
        records = self._records
        if not records:
            return
        self._records = []
        children = self.metrics.children
        for _, _, method, route, status, duration in records:
            counter, histogram = children(route, method, status)
            counter.inc()
            histogram.observe(duration)
        if self.access_log.active():
            self.access_log.write(records)

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
        match, child = candidate.matches(probe)
        if match is Match.FULL:
            # A shortcut route (app/api/v1/*_shortcut) names the documented route it answers for.
            return str(getattr(child.get("route"), "path", path))
        if match is Match.PARTIAL and partial is None:
            partial = str(path)
    return partial


def _flush_at_exit(flush: weakref.WeakMethod[Callable[[], None]]) -> None:
    method = flush()
    if method is not None:
        method()
