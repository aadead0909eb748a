"""Routes of the pages for people (thin: take the read model, render, answer HTML).

``/pages/`` lists the collections, ``/pages/{collection}`` a collection, ``/pages/{collection}/{slug}``
one record; ``/pages/static/pages.css`` is the one stylesheet. ETags, 304s, ``Cache-Control`` and HEAD
come from the same response cache as every other GET. Unknown collections or slugs are 404 problems.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from app.api.pages import render
from app.api.problems import responses
from app.api.read_model import ReadModelDep
from app.errors import ProblemError
from app.kinds import BY_NAME, KINDS

router = APIRouter(prefix="/pages", tags=["pages"])

HTML = "text/html; charset=utf-8"
_CSS = files("app.api.pages").joinpath("static/pages.css").read_bytes()

Collection = Annotated[
    str,
    Path(
        description="A collection: " + ", ".join(k.name for k in KINDS) + ".",
        pattern="^[a-z-]{1,40}$",
        examples=["regimens"],
    ),
]
Slug = Annotated[
    str, Path(description="The record's slug.", pattern="^[a-z0-9-]{1,120}$", examples=["low-dose-naltrexone"])
]
PAGE: dict[int | str, dict[str, Any]] = {200: {"description": "The page.", "content": {"text/html": {}}}}


def _kind(collection: str) -> str:
    if collection not in BY_NAME:
        raise ProblemError("not-found", f"No collection '{collection}'. Collections: {', '.join(BY_NAME)}.")
    return collection


@router.get(
    "/static/pages.css",
    operation_id="getPagesStylesheet",
    summary="The pages' stylesheet",
    description="The one stylesheet of the pages for people (no scripts).",
    responses={200: {"description": "CSS.", "content": {"text/css": {}}}, **responses("bad-request")},
    response_class=Response,
)
def stylesheet() -> Response:
    return Response(_CSS, media_type="text/css; charset=utf-8")


@router.get(
    "/",
    operation_id="getPagesIndex",
    response_class=Response,
    summary="Index of the pages for people",
    description="An HTML page listing every collection with its record count. " + render.DISCLAIMER,
    responses={**PAGE, **responses("bad-request")},
)
async def index(model: ReadModelDep) -> Response:
    counts = [(k.name, k.name.capitalize(), len(model.records(k.name))) for k in KINDS]
    return Response(render.index_page(counts, model.meta), media_type=HTML)


@router.get(
    "/{collection}",
    operation_id="getCollectionPage",
    response_class=Response,
    summary="A collection as an HTML page",
    description="Every record of one collection, linked to its page. " + render.DISCLAIMER,
    responses={**PAGE, **responses("not-found", "bad-request", "validation-error")},
)
async def collection_page(collection: Collection, model: ReadModelDep) -> Response:
    kind = _kind(collection)
    return Response(render.collection_page(kind, model.records(kind), model.meta), media_type=HTML)


@router.get(
    "/{collection}/{slug}",
    operation_id="getRecordPage",
    response_class=Response,
    summary="A record as an HTML page",
    description="One record for people: summaries, warnings, each source's dose range with its verification, "
    "the evidence and its direction, studies and sources; no JavaScript, printable. " + render.DISCLAIMER,
    responses={**PAGE, **responses("not-found", "bad-request", "validation-error")},
)
async def record_page(collection: Collection, slug: Slug, model: ReadModelDep) -> Response:
    kind = _kind(collection)
    record = model.record(kind, slug)
    return Response(render.record_page(kind, record, model.meta), media_type=HTML)
