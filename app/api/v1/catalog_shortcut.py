"""Plain record reads answered without FastAPI's routing and parameter solving (most of a computed answer's
time): ``GET /v1/{kind}`` with valid parameters and ``GET /v1/{kind}/{slug}``.

:class:`CatalogShortcut` is the first route of the router (like the search and CDS shortcuts), so it runs
inside the whole middleware stack: headers, cache, metrics, logs and problem+json errors are the documented
routes'. It answers with the same functions as the documented routes (:func:`~app.api.v1.catalog.answer_list`,
:func:`~app.api.v1.catalog.answer_record`), and it accepts a request only when every parameter is one the
documented route declares, given once, and valid by the documented route's own type (each filter's
annotation, validated by pydantic as FastAPI does); anything else goes to the documented route, which
answers it, or its error, as documented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from app.api.deps import CACHE_BUSTER
from app.api.v1.catalog import (
    FIELDS_MAX_LENGTH,
    FIELDS_PATTERN,
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    SORT_MAX_LENGTH,
    SORTS,
    ListParams,
    UpdatedSinceQuery,
    answer_list,
    answer_record,
    list_response,
    record_response,
)
from app.kinds import KINDS, Kind
from app.readmodel.cursor import MAX_CURSOR_LENGTH, CursorCodec
from app.readmodel.model import ReadModel
from app.settings import Settings

#: The scope key carrying what :meth:`CatalogShortcut.matches` parsed to its handler.
SHORTCUT_REQUEST = "ldnkb.catalog_request"

_SLUG = re.compile(SLUG_PATTERN)
_FIELDS = re.compile(FIELDS_PATTERN)
#: ``updated_since`` validated as the documented route validates it (a date-time, never a bare number).
_UPDATED_SINCE: TypeAdapter[datetime | None] = TypeAdapter(UpdatedSinceQuery)


@dataclass(frozen=True, slots=True)
class _KindRoutes:
    kind: Kind
    list_route: APIRoute
    get_route: APIRoute
    filters: Mapping[str, Callable[[str], Any]]


def _validator(annotation: Any) -> Callable[[str], Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    return adapter.validate_python


class CatalogShortcut(BaseRoute):
    def __init__(self, routes: list[BaseRoute], settings: Settings) -> None:
        api_routes = {r.name: r for r in routes if isinstance(r, APIRoute)}
        self.limit_default = settings.page_limit_default
        self.limit_max = settings.page_limit_max
        self.kinds: dict[str, _KindRoutes] = {}
        for kind in KINDS:
            self.kinds[kind.name] = _KindRoutes(
                kind,
                api_routes[f"list_{kind.name}"],
                api_routes[f"get_{kind.singular.replace(' ', '_')}"],
                {f.name: _validator(f.annotation) for f in kind.filters},
            )
        self.path = self.path_format = "/v1/{kind}"
        #: Requests answered here since start-up.
        self.answered = 0

    def parse(self, scope: Scope) -> tuple[_KindRoutes, ListParams | str] | None:
        """The kind and the list parameters (or the slug) of a plain record read, else None."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        path: str = scope["path"]
        if not path.startswith("/v1/"):
            return None
        name, slash, slug = path[4:].partition("/")
        routes = self.kinds.get(name)
        if routes is None:
            return None
        query: bytes = scope.get("query_string", b"")
        if slash:
            if not (len(slug) <= SLUG_MAX_LENGTH and _SLUG.match(slug) and _only_cache_buster(query)):
                return None
            return routes, slug
        params = self._list_params(routes, query)
        return None if params is None else (routes, params)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        parsed = self.parse(scope)
        if parsed is None:
            return Match.NONE, {}
        routes, what = parsed
        if isinstance(what, str):
            return Match.FULL, {
                "endpoint": routes.get_route.endpoint,
                "route": routes.get_route,
                "path_params": {"slug": what},
                SHORTCUT_REQUEST: (routes.kind, what, routes.get_route),
            }
        return Match.FULL, {
            "endpoint": routes.list_route.endpoint,
            "route": routes.list_route,
            SHORTCUT_REQUEST: (routes.kind, what, routes.list_route),
        }

    def answer_now(self, scope: Scope, model: ReadModel, cursors: CursorCodec) -> Response | None:
        """The answer to a plain record read from ``model``, computed here and now (no I/O), or None when the
        request is not one (the documented route answers it). Raises ProblemError (or NotFoundError) for a
        plain request that has no answer: a cursor of another list, a slug that is not there."""
        parsed = self.parse(scope)
        if parsed is None:
            return None
        routes, what = parsed
        if isinstance(what, str):
            return record_response(routes.kind, model, what)
        return list_response(Request(scope), routes.kind, model, cursors, what)

    def _list_params(self, routes: _KindRoutes, query: bytes) -> ListParams | None:
        """The list parameters when the documented route would accept them as they stand, else None."""
        if not query:
            return ListParams(limit=self.limit_default)
        values: dict[str, str] = {}
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
            if name in values or "\x00" in value or "\x00" in name:
                return None
            values[name] = value
        values.pop(CACHE_BUSTER, None)
        limit = self.limit_default
        sort = "slug"
        cursor = fields = None
        updated_since: datetime | None = None
        filters: dict[str, Any] = dict.fromkeys(routes.filters)
        try:
            for name, value in values.items():
                if name == "limit":
                    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= self.limit_max):
                        return None
                    limit = int(value)
                elif name == "sort":
                    if len(value) > SORT_MAX_LENGTH or value not in SORTS[routes.kind.name]:
                        return None
                    sort = value
                elif name == "cursor":
                    if len(value) > MAX_CURSOR_LENGTH:
                        return None
                    cursor = value
                elif name == "fields":
                    if len(value) > FIELDS_MAX_LENGTH or not _FIELDS.match(value):
                        return None
                    fields = value
                elif name == "updated_since":
                    updated_since = _UPDATED_SINCE.validate_python(value)
                elif name in routes.filters:
                    filters[name] = routes.filters[name](value)
                else:
                    return None
        except ValidationError:
            return None
        return ListParams(sort, filters, updated_since, limit, cursor, fields)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, what, route = scope[SHORTCUT_REQUEST]
        scope["route"] = route  # metrics and logs label the request with the documented route's template
        self.answered += 1
        request = Request(scope, receive)
        if isinstance(what, ListParams):
            response = await answer_list(request, kind, what)
        else:
            response = await answer_record(request, kind, what)
        await response(scope, receive, send)


def _only_cache_buster(query: bytes) -> bool:
    if not query:
        return True
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return len(pairs) == 1 and pairs[0][0] == CACHE_BUSTER and "\x00" not in pairs[0][1]
