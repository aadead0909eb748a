"""The front door: cache hits and 304s answered before FastAPI's middleware stack runs.

Most requests to this service repeat one already answered for the current content version. For those,
:meth:`FrontDoor.lookup` does, in one pass, what the stack would do on a hit: it reads the cache key,
the ``If-None-Match`` and the request id, and builds the stored answer's messages (200, HEAD or 304)
from header lists built once per entry (the cache's own, then the security headers, then the request
id, as the stack adds them). :class:`KnowledgeApp`, FastAPI with the front door in its ``__call__``,
sends them, and :meth:`FrontDoor.finished` counts, times and logs the request through the same
:class:`~app.observability.observer.RequestObserver` as the stack. Everything else (misses, POSTs,
non-cached paths, and requests with ``Origin`` when CORS answers depend on it) goes through the full stack,
which fills the store.
"""

from __future__ import annotations

import dataclasses
import time

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from app.api.caching import CacheKey, Entry, ResponseStore, entry_messages, request_facts
from app.api.cors import CorsPolicy
from app.api.security_headers import SecurityHeaders
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver

#: A stored entry, and the same entry with the headers the stack would add around it.
Prepared = tuple[Entry, Entry]
#: An answer found: its two ASGI messages, status, request id, and when the request arrived.
Hit = tuple[Message, Message, int, str, float]


class FrontDoor:
    def __init__(
        self, *, store: ResponseStore, security: SecurityHeaders, observer: RequestObserver, cors: CorsPolicy
    ) -> None:
        self.store = store
        self.security = security
        self.observer = observer
        self.cors = cors
        self._prepared: dict[CacheKey, Prepared] = {}
        self._version = -1  # the content version of what _prepared holds
        #: Requests answered here since start-up.
        self.answered = 0

    def lookup(self, scope: Scope) -> Hit | None:
        """The answer to ``scope`` if the store holds it (nothing is sent here), else None."""
        method: str = scope["method"]
        path: str = scope["path"]
        store = self.store
        if (method != "GET" and method != "HEAD") or not store.caches(path):
            return None
        started = time.perf_counter()
        key, inm, client_id, has_origin = request_facts(scope)
        if has_origin and self.cors.origin_dependent:
            return None  # CORS headers depend on the origin: the CORS middleware answers
        entry = store.get(key)
        if entry is None:
            return None
        prepared = self._prepared.get(key)
        if prepared is None or prepared[0] is not entry:
            prepared = self._prepare(key, entry, path)
        request_id = self.observer.request_id(client_id)
        status, start, body = entry_messages(
            prepared[1], inm, method == "HEAD", ((REQUEST_ID_HEADER, request_id.encode()),)
        )
        return start, body, status, request_id, started

    def finished(self, scope: Scope, hit: Hit) -> None:
        """Record a request answered from ``hit`` (counted, timed and logged like any other)."""
        _, _, status, request_id, started = hit
        self.answered += 1
        observer = self.observer
        route = observer.route_template(scope, "")
        observer.finished(request_id, scope["method"], route, status, time.perf_counter() - started)

    def _prepare(self, key: CacheKey, entry: Entry, path: str) -> Prepared:
        # Never more than the store holds, and nothing of an older content version (a prepared entry keeps
        # its body alive): start afresh when either would happen.
        if len(self._prepared) >= self.store.max_entries or self._version != self.store.entries_version:
            self._prepared.clear()
            self._version = self.store.entries_version
        apply = self.security.apply
        # CORS: with `*`, the same headers on every answer of the path, added where CorsMiddleware adds them.
        cors = self.cors.static_headers(path)
        outer = dataclasses.replace(
            entry,
            headers=apply([*entry.headers, *cors], path),
            not_modified_headers=apply([*entry.not_modified_headers, *cors], path),
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
            hit = front_door.lookup(scope)
            if hit is not None:  # sent here, not in a coroutine of the front door's: one frame less a hit
                metrics = front_door.observer.metrics
                metrics.request_started()
                try:
                    await send(hit[0])
                    await send(hit[1])
                finally:
                    metrics.request_ended()
                front_door.finished(scope, hit)
                return
        await super().__call__(scope, receive, send)
