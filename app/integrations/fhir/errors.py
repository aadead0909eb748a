"""OperationOutcome errors for every failure under ``/fhir``.

``app.errors`` delegates to :func:`fhir_error_response` when :func:`is_fhir_request` holds, so a FHIR
client gets an OperationOutcome (never problem+json) for a 404 route, a 405, a bad parameter or a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.domain.disclaimer import SHORT_DISCLAIMER
from app.errors import ProblemError
from app.integrations.fhir.extensions import narrative

log = logging.getLogger("ldn_kb.fhir")

FHIR_PREFIX = "/fhir/"
FHIR_JSON = "application/fhir+json"
CHARSET = "; charset=utf-8"  # R4 http.html: the server SHALL state the character encoding (UTF-8)

# HTTP status -> OperationOutcome.issue.code (http://hl7.org/fhir/issue-type, required binding).
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    412: "conflict",
    415: "not-supported",
    422: "invalid",
    429: "throttled",  # R4 issue-type: "not prepared to handle this request due to load management"
    503: "transient",
}
ISSUE_TYPES = frozenset(
    {
        "invalid",
        "login",
        "not-found",
        "not-supported",
        "conflict",
        "transient",
        "throttled",
        "exception",
        "value",
        "code-invalid",
    }
)


_SLUGS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
}


class FhirError(ProblemError):
    """A failure to render as an OperationOutcome with this status and issue code.

    A ProblemError, so the app's ProblemError handler (which delegates /fhir paths here) catches it.
    """

    def __init__(self, status: int, code: str, diagnostics: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(_SLUGS.get(status, "bad-request"), diagnostics, headers=headers)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.headers = headers or {}


def is_fhir_request(request: Request) -> bool:
    """True for every path under ``/fhir`` (the facade answers errors in its own format there)."""
    path: str = request.url.path
    return path == "/fhir" or path.startswith(FHIR_PREFIX)


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "text": narrative(diagnostics, SHORT_DISCLAIMER),
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def outcome_response(status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(operation_outcome(code, diagnostics))
    return Response(body, status_code=status, media_type=FHIR_JSON + CHARSET, headers=headers)


def fhir_error_response(request: Request, exc: Exception) -> Response:
    """The OperationOutcome for any exception raised while serving a ``/fhir`` request."""
    if isinstance(exc, FhirError):
        return outcome_response(exc.status, exc.code, exc.diagnostics, exc.headers)
    if isinstance(exc, ProblemError):
        status = exc.problem.status
        return outcome_response(status, _ISSUE_CODES.get(status, "invalid"), exc.detail, exc.headers)
    if isinstance(exc, RequestValidationError):
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return outcome_response(400, "invalid", f"Invalid request: {where}.")
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        if status == 404:
            detail = f"No FHIR interaction at {request.url.path} (see {FHIR_PREFIX}R4/metadata)."
        elif status == 405:
            detail = f"{request.method} is not supported on {request.url.path}."
        else:
            detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        code = _ISSUE_CODES.get(status, "exception" if status >= 500 else "invalid")
        return outcome_response(status, code, detail, getattr(exc, "headers", None))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return outcome_response(500, "exception", "An unexpected error occurred.")
