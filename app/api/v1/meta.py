"""Reference routes: the API index (``/`` and ``/v1``), evidence levels, problem types."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app import __version__
from app.api.caching import etag_matches
from app.api.deps import SessionDep
from app.api.problems import LIST_ERRORS, responses
from app.api.responses import JSON_MEDIA_TYPE, base_url, dumps, meta
from app.domain.evidence import DEFINITIONS
from app.errors import PROBLEM_TYPES, ProblemError
from app.etag import strong_etag
from app.kinds import KINDS
from app.schemas.examples import example
from app.schemas.openapi import ok
from app.schemas.reference import ApiIndex, EvidenceLevelList, ProblemTypeList, ProblemTypeResponse
from app.services.dataset import dataset_info

router = APIRouter()

#: The /v1 collections (the same words as the human pages' /pages/{collection}).
COLLECTIONS = tuple(kind.name for kind in KINDS)


def _whole_list(request: Request, session: SessionDep, data: list[dict[str, Any]]) -> bytes:
    """A list that is always one page, in the envelope of every other list."""
    self_url = f"{base_url(request)}{request.url.path}"
    count = len(data)
    return dumps(
        {
            "data": data,
            "meta": {**meta(dataset_info(session)), "total": count, "count": count, "limit": count},
            "links": {"self": self_url, "next": None},
        }
    )


def _conditional(request: Request, body: bytes, media_type: str) -> Response:
    """``body`` with a strong ETag (304 when If-None-Match matches): for answers outside the response cache."""
    etag = strong_etag(body)
    headers = {"ETag": etag.decode(), "Cache-Control": "no-cache", "Vary": "Accept"}
    inm = request.headers.get("if-none-match")
    if inm and etag_matches(inm.encode(), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def index_document(request: Request, session: SessionDep) -> dict[str, Any]:
    base = base_url(request)
    app = request.app
    return {
        "data": {
            "name": "ldn-kb",
            "title": app.title,
            "version": __version__,
            "api_version": "v1",
            "links": {
                "self": f"{base}{request.url.path}",
                "collections": {name: f"{base}/v1/{name}" for name in COLLECTIONS},
                "search": f"{base}/v1/search",
                "dose_check": f"{base}/v1/dose-check",
                "evidence_levels": f"{base}/v1/evidence-levels",
                "problems": f"{base}/problems",
                "docs": f"{base}/docs",
                "redoc": f"{base}/redoc",
                "openapi": f"{base}{app.openapi_url or '/openapi.json'}",
                "fhir": f"{base}/fhir/R4/metadata",
                "cds_services": f"{base}/cds-services",
                "infobutton": f"{base}/infobutton",
            },
        },
        "meta": meta(dataset_info(session)),
    }


def _prefers_html(accept: str) -> bool:
    """True when ``Accept`` ranks text/html above JSON (a browser's address bar), never for */* alone."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = part.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        best[media] = max(best.get(media, 0.0), quality)
    html = best.get("text/html", 0.0)
    json = max(best.get("application/json", 0.0), best.get("application/*", 0.0))
    return html > 0 and html >= json


def _index_html(document: dict[str, Any]) -> bytes:
    data = document["data"]
    links = data["links"]
    rows = [(f"{name}", url) for name, url in links["collections"].items()]
    rows += [(name.replace("_", " "), url) for name, url in links.items() if isinstance(url, str) and name != "self"]
    items = "\n".join(f'<li><a href="{escape(url, quote=True)}">{escape(name)}</a></li>' for name, url in rows)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(data['title'])}</title></head><body>"
        f"<h1>{escape(data['title'])}</h1><p>Version {escape(data['version'])}. "
        f"{escape(document['meta']['disclaimer'])}</p><ul>\n{items}\n</ul></body></html>\n"
    ).encode()


def _index_responses(*, html: bool) -> dict[int | str, Any]:
    out = {**ok(ApiIndex, "The API index.", "index"), **responses("bad-request", "validation-error")}
    if html:
        page = {"schema": {"type": "string"}, "example": example("index_html")}
        out[200] = {
            **out[200],
            "description": "The API index (JSON; an HTML page of the same links when `Accept` prefers text/html).",
            "content": {**out[200]["content"], "text/html": page},
        }
    return out


@router.get(
    "/",
    operation_id="getServiceIndex",
    tags=["reference"],
    summary="Service index",
    responses=_index_responses(html=True),
)
def service_index(request: Request, session: SessionDep) -> Response:
    """What this service offers and where: links to every collection, search, dose check, the docs, the
    OpenAPI document, the FHIR CapabilityStatement, CDS Hooks discovery and Infobutton. JSON by default;
    a browser that asks for `text/html` first gets the same links as a page."""
    document = index_document(request, session)
    if _prefers_html(request.headers.get("accept", "")):
        return _conditional(request, _index_html(document), "text/html; charset=utf-8")
    return _conditional(request, dumps(document), JSON_MEDIA_TYPE)


@router.get(
    "/v1",
    operation_id="getApiIndex",
    tags=["reference"],
    summary="API index",
    responses=_index_responses(html=False),
)
def api_index(request: Request, session: SessionDep) -> Response:
    """The JSON API's index: the same links as `GET /`, always JSON."""
    return _conditional(request, dumps(index_document(request, session)), JSON_MEDIA_TYPE)


@router.get(
    "/v1/evidence-levels",
    operation_id="listEvidenceLevels",
    tags=["reference"],
    summary="List evidence levels",
    responses={**ok(EvidenceLevelList, "The evidence levels, strongest first.", "evidence_levels"), **LIST_ERRORS},
)
def list_evidence_levels(request: Request, session: SessionDep) -> Response:
    """The closed vocabulary of evidence levels, strongest first, with written definitions. A level says how
    strong the evidence is by design, never how enthusiastic a source was."""
    data = [{"level": d.level.value, "rank": d.rank, "title": d.title, "definition": d.definition} for d in DEFINITIONS]
    return Response(_whole_list(request, session, data), media_type=JSON_MEDIA_TYPE)


@router.get(
    "/problems",
    operation_id="listProblemTypes",
    tags=["reference"],
    summary="List problem types",
    responses={**ok(ProblemTypeList, "Every problem type.", "problem_types"), **LIST_ERRORS},
)
def list_problem_types(request: Request, session: SessionDep) -> Response:
    """Every RFC 9457 problem `type` this service returns, with its status and meaning.

    Every error of this service is an `application/problem+json` body whose `type` is one of these URIs
    (relative to the service's base URL, e.g. `/problems/not-found`); each resolves to its own definition
    at `GET /problems/{slug}`. The URIs are stable: a type is never renamed or given another meaning."""
    data = [
        {"type": p.uri, "status": p.status, "title": p.title, "description": p.description}
        for p in PROBLEM_TYPES.values()
    ]
    return Response(_whole_list(request, session, data), media_type=JSON_MEDIA_TYPE)


@router.get(
    "/problems/{slug}",
    operation_id="getProblemType",
    tags=["reference"],
    summary="Get a problem type",
    responses={
        **ok(ProblemTypeResponse, "The problem type.", "problem_type"),
        **responses("not-found", "validation-error"),
    },
)
def get_problem_type(slug: str) -> Response:
    """What one problem `type` URI means: the `type` member of an error body is this route's path."""
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise ProblemError("not-found", f"No problem type '{slug}'.")
    data = {
        "type": problem.uri,
        "status": problem.status,
        "title": problem.title,
        "description": problem.description,
    }
    return Response(dumps({"data": data}), media_type=JSON_MEDIA_TYPE)
