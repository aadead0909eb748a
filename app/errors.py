"""Domain exceptions and the one RFC 9457 problem+json envelope for every error.

Each problem ``type`` is a stable URI under ``/problems/{slug}``, documented by ``PROBLEM_TYPES`` and
served at that path, so that a client can look up what it means.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

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
        out.append({"field": name, "in": where, "message": str(err.get("msg", "")), "type": err.get("type")})
    return out


def _allowed_methods(request: Request) -> str:
    """Every method of every route at this path (Starlette's own Allow names only the first route's)."""
    routes = request.app.router.routes
    methods = {
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


_STATUS_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
}


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(
            exc.problem.slug, exc.detail, _instance(request), errors=exc.errors, headers=exc.headers
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response("validation-error", f"Invalid value for: {fields}.", _instance(request), errors=errors)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = _STATUS_SLUGS.get(exc.status_code, "bad-request" if exc.status_code < 500 else "internal-error")
        detail = exc.detail if isinstance(exc.detail, str) else PROBLEM_TYPES[slug].title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route matches {request.url.path}."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem_response(slug, detail, _instance(request), headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response("internal-error", "An unexpected error occurred.", _instance(request))

    from app.integrations.fhir.errors import fhir_error_response, is_fhir_request

    def fhir_aware(handler: Callable[[Request, Exception], Awaitable[Response]]) -> Any:
        """Paths under /fhir answer an OperationOutcome instead of problem+json."""

        async def handle(request: Request, exc: Exception) -> Response:
            if is_fhir_request(request):
                return fhir_error_response(request, exc)
            return await handler(request, exc)

        return handle

    app.add_exception_handler(ProblemError, fhir_aware(on_problem))
    app.add_exception_handler(RequestValidationError, fhir_aware(on_validation))
    app.add_exception_handler(StarletteHTTPException, fhir_aware(on_http))
    app.add_exception_handler(Exception, fhir_aware(on_unexpected))
