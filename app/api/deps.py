"""Dependencies shared by the routers: the session, paging, field selection, strict parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from types import UnionType
from typing import Annotated, Any, Final, TypeVar, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import Session

from app.errors import ProblemError


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _query_aliases(dependant: Dependant, *, repeatable: bool | None = None) -> set[str]:
    """The query parameters ``dependant`` declares (with ``repeatable``: only those that take a list, or only
    those that take one value)."""
    names = {
        p.alias
        for p in dependant.query_params
        if repeatable is None or _takes_a_list(p.field_info.annotation) == repeatable
    }
    for sub in dependant.dependencies:
        names |= _query_aliases(sub, repeatable=repeatable)
    return names


def _takes_a_list(annotation: Any) -> bool:
    """Whether a parameter's type is a list (``list[str]``, ``list[Kind] | None``): a repeatable parameter."""
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return any(_takes_a_list(arg) for arg in get_args(annotation))
    return (origin or annotation) in _SEQUENCES


_SEQUENCES: Final = (list, tuple, set, frozenset, Sequence)
_PARAMS: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

#: The conventional cache-busting parameter (``?_=1700000000``) that browsers' HTTP libraries append:
#: accepted and ignored everywhere (the response cache leaves it out of its key).
CACHE_BUSTER = "_"


def _route_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters a route declares, and those of them that take one value (cached per route
    object: routes are not hashable)."""
    found = _PARAMS.get(id(route))
    if found is None:
        found = _PARAMS[id(route)] = (
            frozenset(_query_aliases(route.dependant)),
            frozenset(_query_aliases(route.dependant, repeatable=False)),
        )
    return found


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
    allowed, single = _route_params(route)
    unknown = sorted({k for k in request.query_params if k not in allowed and k != CACHE_BUSTER})
    if unknown:
        raise ProblemError(
            "unknown-parameter",
            f"Unknown query parameter(s): {', '.join(unknown)}. Documented: {', '.join(sorted(allowed)) or 'none'}.",
            errors=[{"field": k, "in": "query", "message": "not a parameter of this operation"} for k in unknown],
        )
    # A parameter that takes one value, given twice (amount=4.5&amount=50): which one was meant is not known,
    # and answering for the last would be a guess (a dose check for the other dose).
    names = [k for k, _ in request.query_params.multi_items()]
    if len(names) > len(set(names)):
        repeated = sorted({k for k in names if k in single and names.count(k) > 1})
        if repeated:
            raise ProblemError(
                "bad-request",
                f"Query parameter(s) given more than once: {', '.join(repeated)}. Each takes one value.",
                errors=[
                    {"field": k, "in": "query", "message": "given more than once; takes one value"} for k in repeated
                ],
            )
