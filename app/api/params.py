"""Facts about the app's declared query parameters, read from its routes once."""

from __future__ import annotations

import types
import typing

from fastapi import FastAPI
from fastapi.routing import APIRoute

#: Integer parameters the FHIR facade reads from the raw query (not declared on its routes).
UNDECLARED_INTEGERS = frozenset({"_count"})


def _is_int(annotation: object) -> bool:
    """``int``, ``int | None``, ``Annotated[int, ...]``."""
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(_is_int(a) for a in args)
    return False


def integer_query_params(app: FastAPI) -> frozenset[str]:
    """Names of query parameters that are integers on every route declaring them (``limit``), plus the
    FHIR facade's: a zero-padded value of one of these means the same as the plain number."""
    integer: set[str] = set(UNDECLARED_INTEGERS)
    other: set[str] = set()
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.query_params:
            name = param.alias
            (integer if _is_int(param.field_info.annotation) else other).add(name)
    return frozenset(integer - other)
