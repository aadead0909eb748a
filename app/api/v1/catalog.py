"""The list and get-by-slug routes of every kind of record, derived from app/kinds (thin: parse, ask the read
model, send its bytes).

:func:`build_router` makes, for each declared kind, ``GET /v1/{kind}`` (paging, the kind's sort orders as
an enum, its filters, ``updated_since``, ``fields``) and ``GET /v1/{kind}/{slug}``, with stable
operationIds (``listRegimens``, ``getRegimen``). It is built per app, so the documented ``limit`` maximum is
the one the app enforces. No route queries the store: answers come from the app's read model.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BeforeValidator
from starlette.responses import Response

from app.api.problems import responses
from app.api.read_model import holder_of
from app.api.responses import JSON_MEDIA_TYPE, dumps, paging_links
from app.errors import ProblemError
from app.kinds import KINDS, Kind
from app.readmodel.cursor import MAX_CURSOR_LENGTH, CursorCodec
from app.readmodel.model import ListPage, ListQuery, ReadModel
from app.schemas.openapi import ok
from app.settings import Settings

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 120
SlugPath = Annotated[
    str, Path(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN, description="Record slug.")
]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="Opaque cursor from `links.next` of the previous page; valid only with the same sort and "
        "filters (another list's or an altered cursor is a 400 `invalid-cursor`).",
    ),
]
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


def _date_time_only(value: object) -> object:
    """An RFC 3339 date-time, as documented: not a bare number (pydantic would read ``0.5`` as a Unix time)
    and not a date alone."""
    if isinstance(value, str) and not _DATE_TIME.match(value):
        raise ValueError("an ISO 8601 date and time, e.g. 2025-01-01T00:00:00Z")
    return value


UpdatedSinceQuery = Annotated[
    datetime | None,
    BeforeValidator(_date_time_only),
    Query(
        description="Only records changed at or after this moment (ISO 8601; without an offset, UTC), e.g. "
        "`2025-01-01T00:00:00Z`: what a client that syncs has not seen yet."
    ),
]
#: The media type of a page asked with ``fields=``: a separate documented shape (``SparseList``), so that the
#: full list shape keeps every field required for typed clients.
SPARSE_MEDIA_TYPE = "application/vnd.ldnkb.sparse+json"
FIELDS_DESCRIPTION = (
    "Comma-separated top-level fields of each list item to return (e.g. `slug,name`): a sparse fieldset. "
    f"The answer then has its own shape, `SparseList` (each item only the named fields), served as "
    f"`{SPARSE_MEDIA_TYPE}`; without `fields`, the full shape as `application/json`."
)
FIELDS_PATTERN = r"^[a-z_]+(,[a-z_]+)*$"
FIELDS_MAX_LENGTH = 500


def _fields_query(kind: Kind) -> Any:
    """``fields`` as the kind documents it: only its item's field names (the spec's pattern lists them; the
    server checks the syntax, and answers an unknown name with a 400 that lists the available ones)."""
    names = list(kind.record_model.model_fields)
    alternatives = "|".join(names)
    return Annotated[
        str | None,
        Query(
            max_length=FIELDS_MAX_LENGTH,
            pattern=FIELDS_PATTERN,
            description=f"{FIELDS_DESCRIPTION} Fields: {', '.join(f'`{n}`' for n in names)}.",
            json_schema_extra={"pattern": f"^(?:{alternatives})(?:,(?:{alternatives}))*$"},
        ),
    ]


_KW = inspect.Parameter.KEYWORD_ONLY
# 503 not-ready: only before a first read model exists (the store unreachable since start).
LIST_ERRORS = responses("bad-request", "validation-error", "not-acceptable", "not-ready")
GET_ERRORS = responses("not-found", "bad-request", "validation-error", "not-acceptable", "not-ready")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


#: Each kind's sort orders (the values of its sort enum), read once.
SORT_MAX_LENGTH = 40
SORTS: dict[str, frozenset[str]] = {kind.name: frozenset(m.value for m in kind.sort_enum) for kind in KINDS}


def _check_sort(kind: Kind, sort: str) -> str:
    if sort not in SORTS[kind.name]:
        allowed = [m.value for m in kind.sort_enum]
        raise ProblemError(
            "bad-request",
            f"Cannot sort {kind.name} by '{sort[:40]}'. Sortable: {', '.join(allowed)}.",
            errors=[{"field": "sort", "in": "query", "message": f"one of {', '.join(allowed)}"}],
        )
    return sort


def _pick(kind: Kind, page: ListPage, fields: str) -> list[dict[str, Any]]:
    wanted = fields.split(",")
    available = list(page.collection.records[0]) if page.collection.records else list(kind.record_model.model_fields)
    unknown = [f for f in wanted if f not in available]
    if unknown:
        raise ProblemError(
            "bad-request",
            f"Unknown field(s) in fields=: {', '.join(unknown)}. Available: {', '.join(available)}.",
            errors=[{"field": "fields", "in": "query", "message": f"unknown: {', '.join(unknown)}"}],
        )
    return [{k: record[k] for k in wanted if k in record} for record in page.records]


def list_answer(request: Request, kind: Kind, model: ReadModel, page: ListPage, fields: str | None) -> Response:
    """``{"data": ..., "meta": ..., "links": ...}`` from the page's prebuilt item bytes (or, with ``fields``,
    the sparse items as their own media type)."""
    links, headers = paging_links(request, page.next_cursor)
    meta = {**model.meta, "total": page.total, "count": len(page.indices), "limit": page.limit}
    rest = b',"meta":' + dumps(meta) + b',"links":' + dumps(links) + b"}"
    if fields:
        body = b'{"data":' + dumps(_pick(kind, page, fields)) + rest
        return Response(body, media_type=SPARSE_MEDIA_TYPE, headers=headers)
    headers["ETag"] = page.etag(rest)  # from the items' digests: no hash over the whole 100 KB page
    return Response(page.answer(rest), media_type=JSON_MEDIA_TYPE, headers=headers)


@dataclass(frozen=True, slots=True)
class ListParams:
    """A list request's parameters, validated (by FastAPI on the documented route, or by the shortcut)."""

    sort: str = "slug"
    filters: Mapping[str, Any] = field(default_factory=dict)
    updated_since: datetime | None = None
    limit: int = 20
    cursor: str | None = None
    fields: str | None = None


def list_response(request: Request, kind: Kind, model: ReadModel, cursors: CursorCodec, params: ListParams) -> Response:
    """A page of ``kind`` from ``model`` (synchronous: no I/O). Raises ProblemError for a request the page
    cannot answer (a sort it does not have, a cursor of another list, an unknown field)."""
    query = ListQuery(
        sort=_check_sort(kind, params.sort),
        filters=params.filters,
        updated_since=_utc(params.updated_since),
        limit=params.limit,
        cursor=params.cursor,
    )
    page = model.collection(kind.name).page(query, cursors)
    return list_answer(request, kind, model, page, params.fields)


def record_response(kind: Kind, model: ReadModel, slug: str) -> Response:
    """One record's answer from ``model`` (its bytes and strong ETag built with the model); NotFoundError
    when there is no such record."""
    collection = model.collection(kind.name)
    body = collection.detail(slug)
    # A browser asking this URL for HTML is sent to the record's page (app/api/pages/redirect.py): the answer
    # depends on Accept, and says so to caches.
    return Response(body, media_type=JSON_MEDIA_TYPE, headers={"ETag": collection.etag(slug), "Vary": "Accept"})


async def answer_list(request: Request, kind: Kind, params: ListParams) -> Response:
    """A page of ``kind`` from the app's read model: what both the documented route and the shortcut send."""
    holder = holder_of(request)
    return list_response(request, kind, await holder.get(), holder.cursors, params)


async def answer_record(request: Request, kind: Kind, slug: str) -> Response:
    """One record's answer from the app's read model."""
    return record_response(kind, await holder_of(request).get(), slug)


def _list_endpoint(kind: Kind, settings: Settings) -> Callable[..., Awaitable[Response]]:
    filter_names = [f.name for f in kind.filters]

    async def endpoint(request: Request, **params: Any) -> Response:
        listed = ListParams(
            sort=params["sort"],
            filters={name: params[name] for name in filter_names},
            updated_since=params["updated_since"],
            limit=params["limit"],
            cursor=params["cursor"],
            fields=params["fields"],
        )
        return await answer_list(request, kind, listed)

    sortable = [m.value for m in kind.sort_enum]
    limit = Annotated[
        int,
        Query(
            ge=1,
            le=settings.page_limit_max,
            description=f"Items per page (default {settings.page_limit_default}, at most {settings.page_limit_max}).",
        ),
    ]
    sort = Annotated[
        str,
        Query(
            max_length=SORT_MAX_LENGTH,
            description="Sort order: one of the fields listed, ascending, or descending with the prefix `-`; ties "
            "are broken by slug.",
            json_schema_extra={"enum": sortable},
        ),
    ]
    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("limit", _KW, annotation=limit, default=settings.page_limit_default),
        inspect.Parameter("cursor", _KW, annotation=CursorQuery, default=None),
        inspect.Parameter("sort", _KW, annotation=sort, default="slug"),
        *(inspect.Parameter(f.name, _KW, annotation=f.annotation, default=None) for f in kind.filters),
        inspect.Parameter("updated_since", _KW, annotation=UpdatedSinceQuery, default=None),
        inspect.Parameter("fields", _KW, annotation=_fields_query(kind), default=None),
    ]
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=Response)  # type: ignore[attr-defined]
    endpoint.__name__ = f"list_{kind.name}"
    endpoint.__doc__ = kind.list_description
    return endpoint


def _get_endpoint(kind: Kind) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, slug: SlugPath) -> Response:
        return await answer_record(request, kind, slug)

    endpoint.__name__ = f"get_{kind.singular.replace(' ', '_')}"
    endpoint.__doc__ = kind.get_description
    return endpoint


def _list_ok(kind: Kind) -> dict[int | str, Any]:
    """The 200 of a list: the full shape as application/json, the sparse one (``fields=``) as its own type."""
    documented = ok(kind.list_model, f"A page of {kind.name}.", f"{kind.singular}_list", paged=True)
    content = documented[200]["content"]
    sparse: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/SparseList"}}
    full = content[JSON_MEDIA_TYPE].get("example")
    if full is not None:
        sparse["example"] = {**full, "data": [{"slug": item["slug"]} for item in full["data"]]}
    content[SPARSE_MEDIA_TYPE] = sparse
    documented[200]["description"] += f" With `fields=`, the sparse shape `SparseList` as `{SPARSE_MEDIA_TYPE}`."
    return documented


def build_router(settings: Settings) -> APIRouter:
    """The /v1 record routes of every declared kind, documented with the limits ``settings`` enforce."""
    router = APIRouter(prefix="/v1")
    for kind in KINDS:
        suffix = kind.operation_suffix
        router.add_api_route(
            f"/{kind.name}",
            _list_endpoint(kind, settings),
            methods=["GET"],
            operation_id=f"list{suffix}s",
            tags=[kind.name],
            summary=kind.list_summary,
            description=kind.list_description,
            responses={**_list_ok(kind), **LIST_ERRORS},
        )
        router.add_api_route(
            f"/{kind.name}/{{slug}}",
            _get_endpoint(kind),
            methods=["GET"],
            operation_id=f"get{suffix}",
            tags=[kind.name],
            summary=kind.get_summary,
            description=kind.get_description,
            responses={**ok(kind.response_model, f"The {kind.singular}.", kind.singular), **GET_ERRORS},
        )
    return router
