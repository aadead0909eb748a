"""The changes feed, record revisions and the bulk export (thin: parse, ask the service, send bytes).

``GET /v1/changes`` and the revisions read the store (one query a page); the export is built from the
read model once per content version. All are GETs: ETags, 304s and HEAD come from the response cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.deps import SessionDep
from app.api.problems import responses
from app.api.read_model import ReadModelDep
from app.api.responses import JSON_MEDIA_TYPE, base_url, dumps, paging_links
from app.errors import ProblemError
from app.kinds import BY_NAME, KINDS
from app.schemas.changes import ChangeList, ExportManifestResponse, RevisionList, RevisionResponse
from app.schemas.openapi import ok
from app.services import changes as service
from app.services.export import SQLITE_MEDIA_TYPE, SQLITE_NAME, BulkExport, SqliteSnapshots, manifest, sqlite_entry

router = APIRouter(prefix="/v1")

KIND_NAMES = ", ".join(k.name for k in KINDS)
SlugPath = Annotated[
    str, Path(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Record slug.")
]
FEED_ERRORS = responses("bad-request", "validation-error", "not-acceptable", "not-ready")


def _kind(name: str | None, field: str = "kind") -> str | None:
    if name is not None and name not in BY_NAME:
        raise ProblemError(
            "bad-request",
            f"{field}: unknown kind '{name[:40]}'. Kinds: {KIND_NAMES}.",
            errors=[{"field": field, "in": "query", "message": f"one of {KIND_NAMES}"}],
        )
    return name


@router.get(
    "/changes",
    operation_id="listChanges",
    tags=["sync"],
    summary="List changes (the changes feed)",
    responses={**ok(ChangeList, "A page of changes, oldest first.", "changes", paged=True), **FEED_ERRORS},
)
def list_changes(
    request: Request,
    session: SessionDep,
    since: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only changes after this point: a content version (e.g. `3`: changes of versions 4 and "
            "later) or an ISO 8601 timestamp with a time zone (e.g. `2026-11-28T00:00:00Z`).",
            json_schema_extra={"oneOf": [{"pattern": "^[0-9]{0,12}$"}, {"format": "date-time"}]},
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=40,
            description=f"Only this kind: {KIND_NAMES}.",
            json_schema_extra={"enum": [k.name for k in KINDS]},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size (at most 1000).")] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="Opaque cursor from `links.next`.")] = None,
) -> Response:
    """Every record created, updated or deleted by each content load, in content-version order, with the
    record's new strong ETag: a client that keeps a copy reads from the last version it saw (`since`) and
    follows `links.next`. A client that reads the feed from `since=0` ends with exactly the records (and
    ETags) of the bulk export. An update is logged whenever the record's representation changed, including
    through a record it embeds."""
    page = service.changes_page(session, kind=_kind(kind), since=since, limit=limit, cursor=cursor)
    links, headers = paging_links(request, page.next_cursor)
    info = request.app.state.read_model.current().meta
    body = {
        "data": page.items,
        "meta": {**info, "count": len(page.items), "limit": limit, "latest_version": page.latest_version},
        "links": links,
    }
    return Response(dumps(body), media_type=JSON_MEDIA_TYPE, headers=headers)


def _revision_endpoints(name: str) -> tuple[Callable[..., Response], Callable[..., Response]]:
    """The two revision endpoints of one kind. The kind is closed over, not a defaulted argument: FastAPI
    would publish a defaulted argument as a query parameter (``?_name=`` once switched the kind)."""

    def list_revisions(request: Request, session: SessionDep, slug: SlugPath) -> Response:
        data = service.revisions(session, name, slug)
        meta = request.app.state.read_model.current().meta
        return Response(dumps({"data": data, "meta": meta}), media_type=JSON_MEDIA_TYPE)

    def get_revision(
        request: Request,
        session: SessionDep,
        slug: SlugPath,
        number: Annotated[int, Path(ge=1, le=1_000_000, description="The revision (the record's version).")],
    ) -> Response:
        data = service.revision(session, name, slug, number)
        meta = request.app.state.read_model.current().meta
        return Response(dumps({"data": data, "meta": meta}), media_type=JSON_MEDIA_TYPE)

    return list_revisions, get_revision


def _add_revision_routes() -> None:
    for kind in KINDS:
        name = kind.name
        suffix = kind.operation_suffix
        list_revisions, get_revision = _revision_endpoints(name)

        router.add_api_route(
            f"/{name}/{{slug}}/revisions",
            list_revisions,
            methods=["GET"],
            operation_id=f"list{suffix}Revisions",
            tags=["sync"],
            summary=f"List revisions of a {kind.singular}",
            description=f"Every revision of one {kind.singular}, oldest first: create, each update, and a "
            "delete when it left the dataset (the history outlives the record).",
            responses={
                **ok(RevisionList, "The revisions.", "revisions"),
                **responses("not-found", "bad-request", "validation-error", "not-acceptable"),
            },
        )
        router.add_api_route(
            f"/{name}/{{slug}}/revisions/{{number}}",
            get_revision,
            methods=["GET"],
            operation_id=f"get{suffix}Revision",
            tags=["sync"],
            summary=f"Get a revision of a {kind.singular}",
            description=f"One revision of a {kind.singular} with the record as the curated content held it.",
            responses={
                **ok(RevisionResponse, "The revision.", "revision"),
                **responses("not-found", "bad-request", "validation-error", "not-acceptable"),
            },
        )


_add_revision_routes()


def _export_of(request: Request) -> BulkExport:
    export: BulkExport | None = getattr(request.app.state, "bulk_export", None)
    if export is None:
        export = request.app.state.bulk_export = BulkExport()
    return export


def _sqlite_of(request: Request) -> SqliteSnapshots:
    snapshots: SqliteSnapshots | None = getattr(request.app.state, "sqlite_snapshots", None)
    if snapshots is None:
        snapshots = request.app.state.sqlite_snapshots = SqliteSnapshots()
    return snapshots


@router.get(
    "/export",
    operation_id="getExportManifest",
    tags=["sync"],
    summary="Get the bulk export manifest",
    responses={
        **ok(ExportManifestResponse, "The manifest of the current content version.", "export_manifest"),
        **responses("bad-request", "not-acceptable", "not-ready"),
    },
)
async def export_manifest(request: Request, model: ReadModelDep) -> Response:
    """The whole dataset of the current content version in one download per kind: each file is gzip-
    compressed NDJSON, one record a line exactly as `GET /v1/{kind}/{slug}` serves its `data`, in slug
    order; the manifest gives each file's URL, record count, size and SHA-256. Files of one version are
    byte-identical on every instance."""
    export = _export_of(request).of(model)
    base = base_url(request)
    sqlite = await run_in_threadpool(_sqlite_of(request).of, request.app.state.engine, model)
    body = {"data": {**manifest(model, export, base), "sqlite": sqlite_entry(sqlite, base)}, "meta": model.meta}
    return Response(dumps(body), media_type=JSON_MEDIA_TYPE)


@router.get(
    "/export/{kind}.ndjson.gz",
    operation_id="getExportFile",
    tags=["sync"],
    summary="Download one kind as gzip NDJSON",
    responses={
        200: {
            "description": "gzip-compressed NDJSON.",
            "content": {
                "application/gzip": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(gzip bytes: one JSON record a line, as GET /v1/{kind}/{slug} serves its data)",
                }
            },
        },
        **responses("not-found", "bad-request", "validation-error", "not-ready"),
    },
    response_class=Response,
)
async def export_file(
    request: Request,
    model: ReadModelDep,
    kind: Annotated[str, Path(pattern="^[a-z-]{1,40}$", description=f"One of {KIND_NAMES}.")],
) -> Response:
    """One kind of record as gzip-compressed NDJSON (see the manifest at `GET /v1/export`)."""
    if kind not in BY_NAME:
        raise ProblemError("not-found", f"No export file for '{kind}'. Kinds: {KIND_NAMES}.")
    f = _export_of(request).of(model).files[kind]
    headers = {"Content-Disposition": f'attachment; filename="{kind}.ndjson.gz"'}
    return Response(f.gz, media_type="application/gzip", headers=headers)


@router.get(
    f"/export/{SQLITE_NAME}",
    operation_id="getExportSqlite",
    tags=["sync"],
    summary="Download the store as one SQLite file",
    responses={
        200: {
            "description": "The SQLite database file of the current content version.",
            "content": {
                SQLITE_MEDIA_TYPE: {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(SQLite 3 database bytes: every table of the store at the current content version)",
                }
            },
        },
        **responses("bad-request", "not-ready"),
    },
    response_class=Response,
)
async def export_sqlite(request: Request, model: ReadModelDep) -> Response:
    """The whole store of the current content version as one SQLite file, as Datasette offers: open it with
    `sqlite3`, Datasette or any SQLite client. Built once per content version by copying every table, rows
    in primary-key order, from one consistent snapshot of the store into a fresh SQLite file, so stores with
    the same rows (a bulk import and its source) serve the same bytes; its size and SHA-256 are in
    the manifest (`GET /v1/export`). The ETag is the file's SHA-256; the answer is not kept in the server's
    in-memory response cache."""
    sqlite = await run_in_threadpool(_sqlite_of(request).of, request.app.state.engine, model)
    data = await run_in_threadpool(sqlite.path.read_bytes)
    headers = {
        "Content-Disposition": f'attachment; filename="{SQLITE_NAME}"',
        "ETag": f'"{sqlite.sha256}"',
        # Too big to hold in memory per version next to the JSON answers: the in-process cache skips no-store.
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=SQLITE_MEDIA_TYPE, headers=headers)
