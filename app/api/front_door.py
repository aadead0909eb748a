"""The front door: cache hits and 304s answered before FastAPI's middleware stack runs.

Most requests to this service repeat one already answered for the current content version. For those,
:meth:`FrontDoor.lookup` does, in one pass, what the stack would do on a hit: it reads the cache key,
the ``If-None-Match``, the ``Accept-Encoding`` and the request id, and builds the stored answer's messages
(200, HEAD or 304) from the entry's header lists that already hold the security headers (built once, when
the entry was stored, in the same store the stack uses), then the request id, as the stack adds it. :class:`KnowledgeApp`, FastAPI with the front door in its ``__call__``,
sends them, and :meth:`FrontDoor.finished` counts, times and logs the request through the same
:class:`~app.observability.observer.RequestObserver` as the stack. Everything else (misses, POSTs,
non-cached paths, and requests with ``Origin`` when CORS answers depend on it) goes through the full stack,
which fills the store. With CORS open to any origin (the default), its headers are stored with the entry.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from app.api.caching import ResponseStore, request_facts, variant_messages
from app.api.cors import CorsPolicy
from app.api.security_headers import SecurityHeaders
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver

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
        facts = request_facts(scope, store)
        if not facts.allowed or (facts.has_origin and self.cors.origin_dependent):
            return None  # the stack answers: a Host we do not serve (400), CORS headers depending on the origin
        entry = store.get(facts.key)
        if entry is None:
            return None
        variant = store.variant(facts.key, entry, facts.accept_encoding)
        request_id = self.observer.request_id(facts.request_id)
        status, start, body = variant_messages(
            variant, facts.if_none_match, method == "HEAD", True, ((REQUEST_ID_HEADER, request_id.encode()),)
        )
        return start, body, status, request_id, started

    def finished(self, scope: Scope, hit: Hit) -> None:
        """Record a request answered from ``hit`` (counted, timed and logged like any other)."""
        _, _, status, request_id, started = hit
        self.answered += 1
        observer = self.observer
        route = observer.route_template(scope, "")
        observer.finished(request_id, scope["method"], route, status, time.perf_counter() - started)


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
