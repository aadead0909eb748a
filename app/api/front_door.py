"""The front door: cache hits and 304s answered before FastAPI's middleware stack runs.

Most requests to this service repeat one already answered for the current content version. For those,
:class:`FrontDoor` does, in one pass, what the stack would do on a hit: it reads the cache key, the
``If-None-Match``, the request id; sends the stored answer (200, HEAD or 304) with header lists built
once per entry (the cache's own, then the security headers, then the request id, as the stack adds
them); and counts, times and logs the request through the same
:class:`~app.observability.observer.RequestObserver`. Everything else (misses, POSTs, non-cached paths,
and CORS requests when CORS is on) goes through the full stack, which fills the cache.

:class:`KnowledgeApp` is FastAPI with the front door in its ``__call__``.
"""

from __future__ import annotations

import dataclasses
import time

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app.api.caching import CacheKey, Entry, ResponseStore, request_facts, send_entry
from app.api.security_headers import SecurityHeaders
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver

#: A stored entry, and the same entry with the headers the stack would add around it.
Prepared = tuple[Entry, Entry]


class FrontDoor:
    def __init__(
        self, *, store: ResponseStore, security: SecurityHeaders, observer: RequestObserver, cors: bool
    ) -> None:
        self.store = store
        self.security = security
        self.observer = observer
        self.cors = cors
        self._prepared: dict[CacheKey, Prepared] = {}
        #: Requests answered here since start-up.
        self.answered = 0

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Answer ``scope`` from the cache and return True, or return False (and send nothing)."""
        method: str = scope["method"]
        path: str = scope["path"]
        store = self.store
        if (method != "GET" and method != "HEAD") or not store.caches(path):
            return False
        started = time.perf_counter()
        key, inm, client_id, has_origin = request_facts(scope)
        if has_origin and self.cors:
            return False  # CORS headers depend on the origin: the CORS middleware answers
        entry = store.get(key)
        if entry is None:
            return False
        prepared = self._prepared.get(key)
        if prepared is None or prepared[0] is not entry:
            prepared = self._prepare(key, entry, path)
        observer = self.observer
        request_id = observer.request_id(client_id)
        metrics = observer.metrics
        metrics.in_flight += 1
        try:
            status = await send_entry(
                send, prepared[1], inm, method == "HEAD", ((REQUEST_ID_HEADER, request_id.encode()),)
            )
        finally:
            metrics.in_flight -= 1
        self.answered += 1
        observer.finished(request_id, method, observer.route_template(scope, ""), status, time.perf_counter() - started)
        return True

    def _prepare(self, key: CacheKey, entry: Entry, path: str) -> Prepared:
        if len(self._prepared) >= 2 * max(self.store.max_entries, 1):
            self._prepared.clear()
        apply = self.security.apply
        outer = dataclasses.replace(
            entry, headers=apply(entry.headers, path), not_modified_headers=apply(entry.not_modified_headers, path)
        )
        prepared = (entry, outer)
        self._prepared[key] = prepared
        return prepared


class KnowledgeApp(FastAPI):
    """FastAPI, with :class:`FrontDoor` answering cache hits before the middleware stack."""

    front_door: FrontDoor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front_door = self.front_door
        if front_door is not None and scope["type"] == "http":
            scope["app"] = self
            if await front_door.answer(scope, send):
                return
        await super().__call__(scope, receive, send)
