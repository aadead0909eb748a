"""The front door: cache hits, 304s and plain record reads answered before FastAPI's middleware stack runs.

Most requests to this service repeat one already answered for the current content version. For those,
:meth:`FrontDoor.lookup` does, in one pass, what the stack would do on a hit: it reads the cache key,
the ``If-None-Match``, the ``Accept-Encoding`` and the request id, and builds the stored answer's messages
(200, HEAD or 304) from the entry's header lists that already hold the security headers (built once, when
the entry was stored, in the same store the stack uses), then the request id, as the stack adds it.

A plain record read the store does not hold (``GET /v1/{kind}`` with valid parameters, ``GET
/v1/{kind}/{slug}``; every one, when the response cache is off) is computed here from the app's read model
(:class:`ReadModelReads`) with the documented route's own code, made into an entry exactly as the cache
middleware makes one (stored when the cache is on), and sent the same way: the read model, not the cache,
is what makes these answers fast. Anything that is not a 200 of such a read (an invalid cursor, a slug not
there), and every request the guard would refuse by its size, goes to the stack, which answers it.

:class:`KnowledgeApp`, FastAPI with the front door in its ``__call__``, sends the messages, and
:meth:`FrontDoor.finished` counts, times and logs the request through the same
:class:`~app.observability.observer.RequestObserver` as the stack. Plain dose checks and CDS calls are
computed here too, by :class:`~app.api.front_door_posts.PostAnswers`. Everything else (other POSTs, other
paths, requests with ``Origin`` when CORS answers depend on it, a browser asking for HTML) goes through the
full stack. With CORS open to any origin (the default), its headers are stored with the entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.api.caching import (
    Entry,
    RequestFacts,
    ResponseStore,
    request_facts,
    variant_messages,
)
from app.api.cors import CorsPolicy
from app.api.front_door_posts import PostAnswers
from app.api.limits import GuardLimits
from app.api.security_headers import SecurityHeaders
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver
from app.readmodel.holder import ReadModelHolder
from app.readmodel.model import ReadModel

#: Answers a plain read from a read model now, or None (app/api/v1/catalog_shortcut.py, app/api/v1/search.py).
Answerer = Callable[[Scope, ReadModel], Response | None]


class ReadModelReads:
    """What the front door computes itself: plain reads answered from the app's read model and what is built
    with it (records and pages, searches), never querying: without a model, the stack answers."""

    def __init__(self, holder: ReadModelHolder, answerers: Sequence[Answerer]) -> None:
        self.holder = holder
        self.answerers = tuple(answerers)

    def answer(self, scope: Scope) -> Response | None:
        model = self.holder.peek()
        if model is None:
            return None
        for answerer in self.answerers:
            response = answerer(scope, model)
            if response is not None:
                return response
        return None


#: An answer found: its two ASGI messages, status, request id, and when the request arrived.
Hit = tuple[Message, Message, int, str, float]


class FrontDoor:
    def __init__(
        self,
        *,
        store: ResponseStore,
        security: SecurityHeaders,
        observer: RequestObserver,
        cors: CorsPolicy,
        reads: ReadModelReads | None = None,
        posts: PostAnswers | None = None,
        cache_control: str = "",
        limits: GuardLimits | None = None,
    ) -> None:
        self.store = store
        self.security = security
        self.observer = observer
        self.cors = cors
        self.reads = reads
        self.posts = posts
        self.cache_control = cache_control.encode()
        self.limits = limits
        #: Requests answered here since start-up, and of those, computed from the read model.
        self.answered = 0
        self.computed = 0

    def lookup(self, scope: Scope) -> Hit | None:
        """The answer to ``scope`` if the store holds it or the read model gives it (nothing is sent here),
        else None: the stack answers."""
        method: str = scope["method"]
        path: str = scope["path"]
        store = self.store
        if method != "GET" and method != "HEAD":
            return None
        cached = store.caches(path)
        reads = self.reads if path.startswith("/v1/") else None
        if not cached and reads is None:
            return None
        started = time.perf_counter()
        facts = request_facts(scope, store)
        limits = self.limits
        if (
            not facts.allowed
            or (facts.has_origin and self.cors.origin_dependent)
            or (limits is not None and limits.oversize(scope))
        ):
            # The stack answers: a Host we do not serve (400), CORS headers depending on the origin, a request
            # the guard refuses (414, 431).
            return None
        entry = store.get(facts.key) if cached else None
        if entry is None:
            if reads is None:
                return None
            entry = self._compute(scope, facts, reads, cached)
            if entry is None:
                return None
        variant = store.variant(facts.key, entry, facts.accept_encoding)
        request_id = self.observer.request_id(facts.request_id)
        status, start, body = variant_messages(
            variant, facts.if_none_match, method == "HEAD", True, ((REQUEST_ID_HEADER, request_id.encode()),)
        )
        return start, body, status, request_id, started

    def _compute(self, scope: Scope, facts: RequestFacts, reads: ReadModelReads, cached: bool) -> Entry | None:
        """A plain record read answered from the read model, as the stack would answer it (the same route
        code, the same headers, stored as the stack stores it), or None: the stack answers (and any error)."""
        store = self.store
        version = store.entries_version
        if store.canonicalises(scope["path"]):  # as the cache middleware does: the route sees the canonical query
            scope = {**scope, "query_string": facts.key[1].encode("latin-1")}
        try:
            response = reads.answer(scope)
        except Exception:  # a problem (an invalid cursor, a slug not there) or worse: the stack says it
            return None
        if response is None or response.status_code != 200:
            return None
        headers = [(k.lower(), v) for k, v in response.raw_headers]
        entry = store.admit(
            facts.key,
            headers,
            bytes(response.body),
            scope["path"],
            self.cache_control,
            version,
            cacheable=cached,
            outer=True,
        )
        self.computed += 1
        return entry

    def finished(self, scope: Scope, hit: Hit) -> None:
        """Record a request answered from ``hit`` (counted, timed and logged like any other)."""
        _, _, status, request_id, started = hit
        self.answered += 1
        observer = self.observer
        route = observer.route_template(scope, "")
        observer.finished(request_id, scope["method"], route, status, time.perf_counter() - started)


class KnowledgeApp(FastAPI):
    """FastAPI, with :class:`FrontDoor` answering cache hits and plain reads before the middleware stack."""

    front_door: FrontDoor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front_door = self.front_door
        if front_door is not None and scope["type"] == "http":
            scope["app"] = self
            if scope["method"] == "POST":
                posts = front_door.posts
                if posts is not None:
                    handed = await posts.answer(scope, receive, send)
                    if handed is None:  # answered
                        return
                    receive = handed
                await super().__call__(scope, receive, send)
                return
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
