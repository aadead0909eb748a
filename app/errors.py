"""Domain exceptions and the one RFC 9457 problem+json envelope for every error.

Each problem ``type`` is a stable URI under ``/problems/{slug}``, documented by ``PROBLEM_TYPES`` and
served at that path, so that a client can look up what it means.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import OUTAGE_EXCEPTIONS, is_store_outage, outage_summary
from app.domain.disclaimer import SHORT_DISCLAIMER

log = logging.getLogger("ldn_kb.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (
        ProblemType("not-found", 404, "Not found", "No record or route exists at this URL."),
        ProblemType("method-not-allowed", 405, "Method not allowed", "The route exists but not for this method."),
        ProblemType("bad-request", 400, "Bad request", "The request is malformed: see detail."),
        ProblemType(
            "unknown-parameter",
            400,
            "Unknown query parameter",
            "A query parameter that the operation does not document was sent; it is rejected, not ignored.",
        ),
        ProblemType("invalid-cursor", 400, "Invalid cursor", "The paging cursor is malformed or from another sort."),
        ProblemType(
            "validation-error",
            422,
            "Validation error",
            "One or more fields are invalid; errors[] names each field (a JSON pointer or parameter name).",
        ),
        ProblemType("not-acceptable", 406, "Not acceptable", "No representation matches the Accept header."),
        ProblemType(
            "unsupported-media-type",
            415,
            "Unsupported media type",
            "The request body's Content-Type is not accepted.",
        ),
        ProblemType("unauthorized", 401, "Unauthorized", "Credentials are missing or invalid."),
        ProblemType("precondition-failed", 412, "Precondition failed", "If-Match did not match the current ETag."),
        ProblemType("not-ready", 503, "Service not ready", "The store is unreachable, not migrated or not loaded."),
        ProblemType(
            "store-unavailable",
            503,
            "Store unavailable",
            "The store cannot answer now (unreachable, timed out, read-only or full); retry after Retry-After.",
        ),
        ProblemType(
            "payload-too-large",
            413,
            "Payload too large",
            "The request body is larger than this route accepts; the connection is closed.",
        ),
        ProblemType(
            "uri-too-long", 414, "URI too long", "The request target (path and query) is longer than accepted."
        ),
        ProblemType(
            "headers-too-large",
            431,
            "Request header fields too large",
            "The request's header section is larger than accepted.",
        ),
        ProblemType(
            "http-version-not-supported",
            505,
            "HTTP version not supported",
            "The request line names an HTTP version this server does not speak (it speaks HTTP/1.1 and 1.0).",
        ),
        ProblemType(
            "request-timeout",
            408,
            "Request timeout",
            "The request (its headers or its body) did not arrive in time; the connection is closed.",
        ),
        ProblemType(
            "json-too-deep",
            400,
            "JSON nested too deeply",
            "The JSON body nests arrays and objects deeper than accepted.",
        ),
        ProblemType(
            "too-many-requests",
            429,
            "Too many requests",
            "This client sent more requests than the route's rate limit; retry after Retry-After. The "
            "RateLimit-Policy and RateLimit fields give the quota and what is left.",
        ),
        ProblemType(
            "internal-error",
            500,
            "Internal server error",
            "An unexpected failure; nothing internal is exposed.",
        ),
    )
}


class ProblemError(Exception):
    """Raise from services or dependencies; the handler renders it as problem+json."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = PROBLEM_TYPES[slug]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class NotFoundError(ProblemError):
    def __init__(self, kind: str, slug: str) -> None:
        super().__init__("not-found", f"No {kind} with slug '{slug}'.")


def problem_body(
    problem: ProblemType, detail: str, instance: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    body["disclaimer"] = SHORT_DISCLAIMER  # an RFC 9457 extension member: every answer carries it
    return body


def problem_response(
    slug: str,
    detail: str,
    instance: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    problem = PROBLEM_TYPES[slug]
    content = orjson.dumps(problem_body(problem, detail, instance, errors))
    return Response(content, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _instance(request: Request) -> str:
    return request.url.path


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        name = ".".join(loc[1:]) if len(loc) > 1 else where
        message = str(err.get("msg", ""))
        if err.get("type") == "json_invalid":  # FastAPI's loc is ("body", <character offset>): not a field
            name = where = "body"
            why = (err.get("ctx") or {}).get("error")
            at = f" at character {loc[1]}" if len(loc) > 1 and loc[1].isdigit() else ""
            message = f"The body is not valid JSON ({why}{at})." if why else "The body is not valid JSON."
        out.append({"field": name, "in": where, "message": message, "type": err.get("type")})
    return out


def allowed_methods(routes: Sequence[Any], scope: Scope) -> list[str]:
    """Every method of every route at this scope's path, HEAD with GET (Starlette's own Allow names only the
    first route's); empty when no route serves the path. A route declared for this literal path outranks a
    template that also matches it (``MedicationKnowledge/_search`` is not a resource id)."""
    flat = [context.route for context in iter_route_contexts(routes)]  # routes of included routers too
    matched = [
        (method, getattr(route, "path", None))
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        for route in flat
        if route.matches({**scope, "method": method})[0] == Match.FULL
    ]
    literal = {method for method, path in matched if path == scope["path"]}
    methods = literal or {method for method, _ in matched}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _allowed_methods(request: Request) -> str:
    return ", ".join(allowed_methods(request.app.router.routes, request.scope))


_STATUS_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
}


#: An alternative face for errors: requests it claims (first element) are answered by its renderer.
ErrorFace = tuple[Callable[[Request], bool], Callable[[Request, Exception], Response]]


class ErrorRenderer:
    """Turns any exception into the response a client gets: problem+json, or the face that claims the path.

    A store outage (:func:`app.db.is_store_outage`) becomes a 503 ``/problems/store-unavailable`` with
    ``Retry-After``, logged as one line without a traceback (the store's error, never its parameters); any
    other unexpected error becomes a 500, logged once with its traceback.
    """

    def __init__(self, faces: Sequence[ErrorFace] = (), *, retry_after: int = 5) -> None:
        self.faces = tuple(faces)
        self.retry_after = retry_after
        self._logged_at = -math.inf
        self._quiet = 0

    def _log_outage(self, request: Request, exc: Exception) -> None:
        """One line a second at most during an outage (with how many answers it stands for)."""
        now = time.monotonic()
        if now - self._logged_at < 1.0:
            self._quiet += 1
            return
        log.warning(
            "store unavailable on %s %s: %s (%d more 503s since the last line)",
            request.method,
            request.url.path,
            outage_summary(exc),
            self._quiet,
        )
        self._logged_at = now
        self._quiet = 0

    def __call__(self, request: Request, exc: Exception) -> Response:
        if is_store_outage(exc):
            self._log_outage(request, exc)
            exc = ProblemError(
                "store-unavailable",
                "The store cannot answer now; retry shortly.",
                headers={"Retry-After": str(self.retry_after)},
            )
        for claims, render in self.faces:
            if claims(request):
                return render(request, exc)
        return _default_face(request, exc)


def _default_face(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ProblemError):
        return problem_response(
            exc.problem.slug, exc.detail, _instance(request), errors=exc.errors, headers=exc.headers
        )
    if isinstance(exc, RequestValidationError):
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            detail = "The body is not valid JSON."
        else:
            detail = f"Invalid value for: {', '.join(sorted({e['field'] for e in errors}))}."
        return problem_response("validation-error", detail, _instance(request), errors=errors)
    if isinstance(exc, StarletteHTTPException):
        slug = _STATUS_SLUGS.get(exc.status_code, "bad-request" if exc.status_code < 500 else "internal-error")
        detail = exc.detail if isinstance(exc.detail, str) else PROBLEM_TYPES[slug].title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route matches {request.url.path}."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem_response(slug, detail, _instance(request), headers=headers)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response("internal-error", "An unexpected error occurred.", _instance(request))


class ErrorBoundary:
    """Pure ASGI middleware, inside the instrumentation and the security headers: an exception that no
    handler took becomes a well-formed answer here (so it carries the request id and the security headers,
    and the keep-alive connection stays usable), logged once and not raised again (Starlette's outermost
    handler would log it a second time, send its answer without our headers and raise it to the server,
    which then drops the connection). An exception after the answer started cannot be answered: the
    connection is closed (by the server, as the answer is incomplete), after one log line."""

    def __init__(self, app: ASGIApp, *, render: ErrorRenderer) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            request = Request(scope)
            if started:
                log.error("error after the answer started on %s %s", request.method, request.url.path, exc_info=exc)
                return
            response = self.render(request, exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI, render: ErrorRenderer) -> None:
    """Route every error FastAPI's exception middleware sees through ``render`` (the app factory adds the
    :class:`ErrorBoundary` middleware for the rest)."""

    async def handle(request: Request, exc: Exception) -> Response:
        return render(request, exc)

    for kind in (ProblemError, RequestValidationError, StarletteHTTPException, *OUTAGE_EXCEPTIONS):
        app.add_exception_handler(kind, handle)
