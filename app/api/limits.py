"""The request guard: limits every request meets before any route, parser or credential check sees it.

A pure ASGI middleware. For each request it checks, in this order, and answers with the error's own
face (problem+json, or an OperationOutcome under ``/fhir``) when a limit is passed:

1. the request target and header section sizes (414, 431): the server (``ldn-kb serve``, see
   :mod:`app.api.protocol`) refuses larger ones before they reach the app; this covers any other server;
2. the per-client rate limit of the route family (429 with ``Retry-After`` and RateLimit fields): CDS
   feedback always, other POSTs when configured (:mod:`app.api.ratelimit`);
3. the body cap of the route family (413): a declared ``Content-Length`` above it is refused without
   reading a byte; otherwise the body is read, and refused as soon as it passes the cap;
4. the body read time (408): a client that sends its body too slowly is answered and disconnected;
5. a JSON body's nesting depth (400), counted without a recursive parser, so that a 10,000-deep array
   never reaches one.

A body that passes is handed on, already read, to the route. Errors about the request's framing close
the connection (``Connection: close``): the rest of an unread body must not be read as a next request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.media import content_types, is_json_media, refuses_body
from app.api.ratelimit import Decision, RateLimiter
from app.api.shortcuts import replay
from app.errors import ProblemError
from app.settings import Settings

Renderer = Callable[[Request, Exception], Response]

_CDS_PREFIX = "/cds-services/"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests deeper than ``limit``; a body with no more brackets than that cannot (the
    usual case, answered by two counts at C speed)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    return json_depth(body) > limit


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, counted iteratively (strings skipped).

    For text that is not JSON the count is only an estimate; the parser rejects such text anyway."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for char in brackets:
        if char == 0x5B or char == 0x7B:  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    body_limit: int
    limiter: RateLimiter | None


class Families:
    """The route families' body caps and rate limiters (one set per app: the guard counts with them, and the
    front door leaves to the guard every request a limiter would count)."""

    def __init__(self, settings: Settings) -> None:
        clients = settings.rate_limit_clients
        window = settings.rate_limit_window

        def limiter(name: str, limit: int) -> RateLimiter | None:
            return RateLimiter(name, limit=limit, window=window, max_clients=clients) if limit else None

        self.feedback = Family(
            "feedback", settings.body_limit_feedback, limiter("feedback", settings.rate_limit_feedback)
        )
        posts = limiter("post", settings.rate_limit_posts)
        self.cds = Family("cds", settings.body_limit_cds, posts)
        self.default = Family("default", settings.body_limit_default, posts)

    def of(self, path: str) -> Family:
        if path.startswith(_CDS_PREFIX):
            return self.feedback if path.endswith("/feedback") else self.cds
        return self.default


#: Set on a request's scope by the first reader of its body (the front door reads some POST bodies before the
#: stack): when the body must have arrived, so that a body handed on is not given a second read time.
BODY_DEADLINE = "ldnkb.body_deadline"


def body_deadline(scope: Scope, timeout: float) -> float:
    """The time (the event loop's clock, ``anyio.current_time()`` on asyncio) by which the request's body
    must have arrived."""
    deadline: float | None = scope.get(BODY_DEADLINE)
    if deadline is None:
        deadline = scope[BODY_DEADLINE] = asyncio.get_running_loop().time() + timeout
    return deadline


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether any Content-Type names JSON (the depth limit is applied to such bodies, even when refused)."""
    return any(is_json_media(value) for value in content_types(headers))


def target_bytes(scope: Scope) -> int:
    """The request target's size as the URL limit counts it: the raw path, then ``?`` and the query if any."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return len(raw_path) + (len(query) + 1 if query else 0)


def header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    """The request headers' size as the header limit counts it (each name and value, and 4 for ``: `` and CRLF)."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """The guard's limits, read from the settings once: the front door holds requests to the same ones."""

    max_url: int
    max_headers: int
    depth: int
    read_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> GuardLimits:
        return cls(
            settings.max_url_bytes, settings.max_header_bytes, settings.json_max_depth, settings.body_read_timeout
        )

    def oversize(self, scope: Scope) -> bool:
        """Whether the request target or the header section is over its limit (414, 431)."""
        return target_bytes(scope) > self.max_url or header_bytes(scope["headers"]) > self.max_headers


class _Refused(Exception):
    def __init__(self, slug: str, detail: str, *, close: bool, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail
        self.close = close
        self.headers = headers or {}


class RequestGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings, render: Renderer, families: Families | None = None) -> None:
        self.app = app
        self.render = render
        self.limits = GuardLimits.of(settings)
        self.families = families or Families(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            self._check_sizes(scope, headers)
        except _Refused as refused:
            await self._refuse(scope, receive, send, refused, None)
            return
        method: str = scope["method"]
        has_body = method in _BODY_METHODS or any(n in (b"content-length", b"transfer-encoding") for n, _ in headers)
        if not has_body:
            await self.app(scope, receive, send)
            return
        family = self.families.of(scope["path"])
        decision: Decision | None = None
        limiter = family.limiter
        if limiter is not None and method == "POST":
            client = scope.get("client")
            decision = limiter.take(client[0] if client else "unknown")
            if not decision.allowed:
                limited = _Refused(
                    "too-many-requests",
                    f"Too many requests from this client: at most {limiter.limit} every {limiter.window} s here.",
                    close=False,
                )
                await self._refuse(scope, receive, send, limited, limiter.headers(decision))
                return
        extra = limiter.headers(decision) if limiter is not None and decision is not None else []
        if refuses_body(method, scope["path"], headers):  # a 415 that needs no body: never ask for it
            await self.app(scope, receive, _with_headers(send, extra) if extra else send)
            return
        try:
            body = await self._read_body(
                receive, headers, family.body_limit, body_deadline(scope, self.limits.read_timeout)
            )
            if body is None:  # the client went away
                return
            if body and _is_json(headers) and too_deep(body, self.limits.depth):
                raise _Refused(
                    "json-too-deep",
                    f"The JSON body nests arrays and objects deeper than {self.limits.depth} levels.",
                    close=False,
                )
        except _Refused as refused:
            await self._refuse(scope, receive, send, refused, extra)
            return
        await self.app(scope, replay(body, receive), _with_headers(send, extra) if extra else send)

    def _check_sizes(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
        if target_bytes(scope) > self.limits.max_url:
            raise _Refused(
                "uri-too-long", f"The request target is longer than {self.limits.max_url} bytes.", close=True
            )
        if header_bytes(headers) > self.limits.max_headers:
            raise _Refused(
                "headers-too-large",
                f"The request's headers are larger than {self.limits.max_headers} bytes.",
                close=True,
            )

    async def _read_body(
        self, receive: Receive, headers: list[tuple[bytes, bytes]], cap: int, deadline: float
    ) -> bytes | None:
        too_large = _Refused("payload-too-large", f"The request body is larger than {cap} bytes here.", close=True)
        for name, value in headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise _Refused("bad-request", "Content-Length is not a number.", close=True) from None
                if declared > cap:
                    raise too_large
        chunks: list[bytes] = []
        size = 0
        with anyio.CancelScope(deadline=deadline) as scope:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk: bytes = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > cap:
                        raise too_large
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if scope.cancelled_caught:
            raise _Refused(
                "request-timeout", f"The request body did not arrive within {self.limits.read_timeout:g} s.", close=True
            )
        return b"".join(chunks)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        refused: _Refused,
        extra: list[tuple[bytes, bytes]] | None,
    ) -> None:
        response = self.render(Request(scope), ProblemError(refused.slug, refused.detail, headers=refused.headers))
        if extra:
            response.raw_headers.extend(extra)
        if refused.close:
            response.raw_headers.append((b"connection", b"close"))
        await response(scope, receive, send)


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sending


_RATE_HEADERS = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
    "RateLimit-Policy": {
        "description": 'The quota (draft-ietf-httpapi-ratelimit-headers), e.g. `"feedback";q=60;w=60`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it, e.g. `"feedback";r=0;t=12`.',
        "schema": {"type": "string"},
    },
}


def document_limits(app: Any, settings: Settings) -> None:
    """Add the guard's answers to the OpenAPI document: on every problem+json operation a 503 (the store
    cannot answer now, with ``Retry-After``) and a 414 (a request target over ``LDNKB_MAX_URL_BYTES``); on every POST also 413 (naming its cap), 408, 400 for JSON
    nested too deep, and 429 where a rate limit applies. FHIR operations describe their errors as
    OperationOutcomes and are left alone."""
    from app.api.problems import responses

    original = app.openapi
    families = Families(settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema  # type: ignore[no-any-return]
        document: dict[str, Any] = original()
        for path, operations in document.get("paths", {}).items():
            if path.startswith("/fhir"):
                continue
            for method, operation in operations.items():
                answers: dict[str, Any] = operation.setdefault("responses", {})
                if "500" not in answers:
                    continue  # operations routes (/healthz, /readyz, /metrics) document their own
                added = dict(responses("store-unavailable", "uri-too-long", "headers-too-large"))
                if method == "post":
                    family = families.of(path)
                    added.update(responses("payload-too-large", "request-timeout"))
                    if family.limiter is not None:
                        added.update(responses("too-many-requests"))
                for status, answer in added.items():
                    key = str(status)
                    if key in answers:
                        if key == "503":  # declared by the route (e.g. not-ready): it says when to retry too
                            answers[key].setdefault("headers", {"Retry-After": _RATE_HEADERS["Retry-After"]})
                        continue
                    answer = {k: v for k, v in answer.items() if k != "model"}
                    if key == "413":
                        answer["description"] = f"The body is larger than {family.body_limit} bytes."
                    if key in ("429", "503"):
                        answer["headers"] = (
                            _RATE_HEADERS if key == "429" else {"Retry-After": _RATE_HEADERS["Retry-After"]}
                        )
                    answers[key] = answer
                operation["responses"] = answers = dict(sorted(answers.items()))
                if method == "post" and "400" in answers:
                    text = answers["400"].get("description", "")
                    if "nested" not in text:
                        answers["400"]["description"] = (
                            f"{text}; or a JSON body nested deeper than {settings.json_max_depth} levels"
                        ).lstrip("; ")
        return document

    app.openapi = openapi
