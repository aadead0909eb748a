"""Dependencies shared by the routers: the session, paging, field selection, strict parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import Session

from app.errors import ProblemError
from app.services.listing import PageRequest
from app.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _query_aliases(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_aliases(sub)
    return names


_ALLOWED: dict[int, frozenset[str]] = {}


def _allowed_params(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares (cached per route object: routes are not hashable)."""
    allowed = _ALLOWED.get(id(route))
    if allowed is None:
        allowed = _ALLOWED[id(route)] = frozenset(_query_aliases(route.dependant))
    return allowed


F = TypeVar("F", bound=Callable[..., Any])


def allow_any_query_parameters(endpoint: F) -> F:
    """Mark an endpoint that validates its own open-ended query parameters (Infobutton, FHIR)."""
    endpoint.__ldnkb_any_query__ = True  # type: ignore[attr-defined]
    return endpoint


async def reject_unknown_params(request: Request) -> None:
    """An undocumented query parameter is a 400, not silently ignored. (async: pure CPU, so FastAPI runs it
    on the event loop instead of handing it to a worker thread, which cost each request a thread hop.)"""
    # A NUL character is no valid text in any parameter, and PostgreSQL rejects it in a string literal
    # (a 500 if it reached a query): refuse it up front, for every route.
    with_nul = sorted(
        {k.replace("\x00", "\\0") for k, v in request.query_params.multi_items() if "\x00" in k or "\x00" in v}
    )
    if with_nul:
        raise ProblemError(
            "bad-request",
            f"Query parameter(s) contain a NUL character: {', '.join(with_nul)}.",
            errors=[{"field": k, "in": "query", "message": "contains a NUL character"} for k in with_nul],
        )
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or getattr(route.endpoint, "__ldnkb_any_query__", False):
        return
    allowed = _allowed_params(route)
    unknown = sorted({k for k in request.query_params if k not in allowed})
    if unknown:
        raise ProblemError(
            "unknown-parameter",
            f"Unknown query parameter(s): {', '.join(unknown)}. Documented: {', '.join(sorted(allowed)) or 'none'}.",
            errors=[{"field": k, "in": "query", "message": "not a parameter of this operation"} for k in unknown],
        )


async def page_request(
    request: Request,
    limit: Annotated[
        int | None,
        Query(ge=1, le=1000, description="Items per page (default 20, at most the configured maximum, 100)."),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=512, description="Opaque cursor from `links.next` of the previous page.")
    ] = None,
    sort: Annotated[
        str,
        Query(max_length=40, pattern=r"^-?[a-z_]+$", description="Sort field; prefix `-` for descending."),
    ] = "slug",
) -> PageRequest:
    """Paging parameters (async: pure CPU, so it runs on the event loop, not in a worker thread)."""
    settings: Settings = request.app.state.settings
    if limit is not None and limit > settings.page_limit_max:
        raise ProblemError(
            "validation-error",
            f"limit must be at most {settings.page_limit_max}.",
            errors=[{"field": "limit", "in": "query", "message": f"at most {settings.page_limit_max}"}],
        )
    return PageRequest(limit=limit or settings.page_limit_default, cursor=cursor, sort=sort)


PageDep = Annotated[PageRequest, Depends(page_request)]

FieldsQuery = Annotated[
    str | None,
    Query(
        max_length=500,
        pattern=r"^[a-z_]+(,[a-z_]+)*$",
        description="Comma-separated top-level fields of each list item to return (e.g. `slug,name`).",
    ),
]
