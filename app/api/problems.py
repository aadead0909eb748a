"""Documented error responses, attached to every operation's ``responses=``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.domain.disclaimer import SHORT_DISCLAIMER
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="The parameter or body field at fault.")
    message: str = Field(description="What is wrong with it.")
    in_: str | None = Field(
        default=None, alias="in", description="Where the field is: query, path, header or body (when known)."
    )
    type: str | None = Field(default=None, description="A machine-readable error code (when known).")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A stable URI identifying the problem type (see /problems).")
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this occurrence.")
    instance: str = Field(description="The path of the request that failed.")
    errors: list[FieldProblem] | None = Field(default=None, description="Field problems, when any.")
    disclaimer: str = Field(description="Reference information, not medical advice (on every answer).")


def _response(slug: str) -> dict[str, Any]:
    p = PROBLEM_TYPES[slug]
    example = {
        "type": p.uri,
        "title": p.title,
        "status": p.status,
        "detail": p.description,
        "instance": "/v1/...",
        "disclaimer": SHORT_DISCLAIMER,
    }
    return {
        "model": Problem,
        "description": p.title,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}},
    }


def responses(*slugs: str) -> dict[int | str, dict[str, Any]]:
    """Error responses for the given problem slugs, plus the 500 every route can give."""
    out: dict[int | str, dict[str, Any]] = {}
    for slug in (*slugs, "internal-error"):
        out[PROBLEM_TYPES[slug].status] = _response(slug)
    return out


LIST_ERRORS = responses("bad-request", "validation-error", "not-acceptable")
GET_ERRORS = responses("not-found", "bad-request", "validation-error", "not-acceptable")
