"""The front door's POST answers: plain dose checks and CDS service calls computed before the middleware stack.

A dose check or a CDS call is computed on every request (each carries a new dose or a new hook instance):
nothing is cached, so the middleware stack ran for each one, and its layers cost about as much as a check
itself (110–130 µs of a 220 µs dose check in process, measured). :class:`PostAnswers` does, for the plain
request, what each layer would do to it, and hands every other request to the stack unchanged, with the
body replayed when it was read:

- routing: the request matches a POST shortcut route (``DoseCheckShortcut``, ``CdsCallShortcut``): its path,
  no query string, ``Content-Type: application/json``, no JWT check configured (CDS);
- the read model: one is held and answering needs no look at the store (a check interval above 0);
- host: a Host that is allowed; its base URL, resolved as the host middleware resolves it, is put on the scope;
- CORS: no ``Origin`` when CORS answers depend on it; the static CORS headers are added, as to stored answers;
- negotiation: every ``Accept`` one that admits JSON without parsing (absent, ``*/*``, ``application/json``);
- the request guard: target and headers within their limits, no rate limit on the route's family, a
  ``Content-Length`` within the family's cap, the body in within the read time (a slow body is handed on
  with its deadline, so the guard answers 408 at the same moment), JSON no deeper than the limit;
- the shortcut answers the body (it parses, validates and is checked without a problem); a problem or any
  exception goes to the stack, which answers it as documented;
- the answer's headers: the route's, then the CORS and security headers (the function that decorates stored
  answers), then the request id; counted, timed and logged by the same observer, with the request id set
  for the log lines written meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from app.api.caching import Decorate
from app.api.cors import CorsPolicy
from app.api.hosts import SCOPE_KEY as BASE_URL_KEY
from app.api.hosts import HostPolicy
from app.api.limits import Families, GuardLimits, body_deadline, too_deep
from app.api.negotiation import plainly_acceptable
from app.api.shortcuts import replay
from app.observability.logging import request_id_var
from app.observability.observer import REQUEST_ID_HEADER, RequestObserver
from app.readmodel.holder import ReadModelHolder
from app.readmodel.model import ReadModel
from app.settings import Settings


class PostShortcut(Protocol):
    """A shortcut route that can answer a body already read (app/api/v1/dose_check.py,
    app/integrations/cds_hooks/shortcut.py)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]: ...

    async def answer_now(self, scope: Scope, raw: bytes, model: ReadModel) -> Response | None:
        """The 200 answering ``raw``, or None: the stack answers (its errors included)."""
        ...


def _replaying(messages: Sequence[Message], receive: Receive) -> Receive:
    """A ``receive`` that yields ``messages`` (what was read of a body), then defers to the real one."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class PostAnswers:
    def __init__(
        self,
        *,
        holder: ReadModelHolder,
        shortcuts: Sequence[PostShortcut],
        settings: Settings,
        families: Families,
        hosts: HostPolicy,
        cors: CorsPolicy,
        decorate: Decorate,
        observer: RequestObserver,
    ) -> None:
        self.holder = holder
        self.shortcuts = tuple(shortcuts)
        self.families = families
        self.hosts = hosts
        self.cors = cors
        self.decorate = decorate
        self.observer = observer
        self.limits = GuardLimits.of(settings)
        #: POSTs answered here since start-up.
        self.answered = 0

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answers a plain POST check and returns None; else returns the ``receive`` the stack is to read
        the request from (the body replayed when it was read here)."""
        if scope["query_string"] or scope.get("root_path"):
            return receive
        for shortcut in self.shortcuts:
            match, child = shortcut.matches(scope)
            if match is Match.FULL:
                break
        else:
            return receive
        model = self.holder.held()
        if model is None:
            return receive
        started = time.perf_counter()
        path: str = scope["path"]
        family = self.families.of(path)
        host = length = b""
        client_id: bytes | None = None
        origin = forwarded = False
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"content-length":
                length = value
            elif name == b"accept":
                if not plainly_acceptable(value):
                    return receive
            elif name == b"x-request-id":
                if client_id is None:
                    client_id = value
            elif name == b"origin":
                origin = True
            elif name == b"transfer-encoding":
                return receive
            elif name.startswith(b"x-forwarded-"):
                forwarded = True
        if (
            family.limiter is not None  # the guard counts this request
            or (origin and self.cors.origin_dependent)
            or not length.isdigit()
            or int(length) > family.body_limit
            or self.limits.oversize(scope)
        ):
            return receive
        hosts = self.hosts
        base = hosts.resolve(scope) if forwarded else hosts.base(scope.get("scheme", "http"), host)
        if base is None:
            return receive

        # The body, within the read time the guard gives it (the same deadline, if it is handed on).
        read: list[Message] = []
        complete = False
        try:
            async with asyncio.timeout_at(body_deadline(scope, self.limits.read_timeout)):  # cheaper than anyio's
                while True:
                    message = await receive()
                    read.append(message)
                    if message["type"] != "http.request" or not message.get("more_body", False):
                        complete = message["type"] == "http.request"
                        break
        except TimeoutError:
            pass
        if not complete:
            return _replaying(read, receive)
        raw = read[0].get("body", b"") if len(read) == 1 else b"".join(m.get("body", b"") for m in read)
        if too_deep(raw, self.limits.depth):
            return replay(raw, receive)

        scope.update(child)
        scope[BASE_URL_KEY] = base
        observer = self.observer
        request_id = observer.request_id(client_id)
        metrics = observer.metrics
        metrics.request_started()
        token = request_id_var.set(request_id)
        try:
            try:
                response = await shortcut.answer_now(scope, raw, model)
            except Exception:  # a problem, or worse: the stack says it
                response = None
            if response is None or response.status_code != 200:
                return replay(raw, receive)
            headers = self.decorate(response.raw_headers, path)
            headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": response.body})
        finally:
            request_id_var.reset(token)
            metrics.request_ended()
        self.answered += 1
        observer.finished(request_id, "POST", observer.route_template(scope, ""), 200, time.perf_counter() - started)
        return None
