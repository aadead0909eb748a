"""``/fhir/R4``: thin routes. Negotiate, parse parameters, look up the catalogue, answer JSON.

Every route validates its own query parameters, so the app-wide unknown-parameter check is switched off for
them with ``allow_any_query_parameters``: FHIR's ``Prefer: handling`` decides what an unknown parameter does
(lenient, the default: ignored and reported; strict: a 400 OperationOutcome). An answer that ignored a
parameter is marked ``Cache-Control: no-store``, so no cache serves it to a strict client.

The catalogue is per app and per content version; links (``fullUrl``, Bundle links, the CapabilityStatement's
``implementation.url``) are made here, from :func:`app.api.responses.base_url`, when the answer is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import allow_any_query_parameters
from app.api.read_model import ReadModelDep
from app.api.responses import base_url
from app.integrations.fhir import examples
from app.integrations.fhir.capability import served
from app.integrations.fhir.catalogue import Catalogue, catalogues
from app.integrations.fhir.errors import CHARSET, FHIR_JSON, FhirError, operation_outcome
from app.integrations.fhir.extensions import FHIR_PATH
from app.integrations.fhir.negotiation import negotiate, require_form
from app.integrations.fhir.search import (
    DEFINITION_PARAMS,
    RESOURCE,
    SearchQuery,
    handling,
    last_updated,
    non_negative,
    parse_date,
    parse_read,
    parse_search,
    search_bundle,
    single,
    sort_out,
    summarize,
)
from app.settings import Settings

router = APIRouter(prefix=FHIR_PATH, tags=["fhir"])

_OUTCOME_EXAMPLE = operation_outcome("not-found", "No MedicationKnowledge with id 'x'.")
_NO_STORE = {"Cache-Control": "no-store"}
DEFINITION_KINDS = ("StructureDefinition", "CodeSystem", "ValueSet")
MkId = Annotated[
    str,
    Path(
        description="The resource id: the drug slug (naltrexone) or a regimen slug.",
        examples=["naltrexone", "low-dose-naltrexone"],
    ),
]
VersionId = Annotated[str, Path(description="A meta.versionId, as given by a read or the history.")]
_DEFINITION_READ_EXAMPLE = {
    "StructureDefinition": examples.STRUCTURE_DEFINITION_EXAMPLE,
    "CodeSystem": examples.CODE_SYSTEM_EXAMPLE,
    "ValueSet": examples.VALUE_SET_EXAMPLE,
}
_DEFINITION_EXAMPLE = {"StructureDefinition": "evidence-level", "CodeSystem": "target", "ValueSet": "verification"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {
            "description": "OperationOutcome",
            "content": {FHIR_JSON: {"schema": {"type": "object"}, "example": _OUTCOME_EXAMPLE}},
        }
        for s in (*statuses, 406, 500)
    }


def _ok(description: str, example: dict[str, Any], last_modified: bool = False) -> dict[int | str, dict[str, Any]]:
    media: dict[str, Any] = {"schema": {"type": "object"}, "example": example}
    out: dict[str, Any] = {"description": description, "content": {FHIR_JSON: media}}
    if last_modified:
        out["headers"] = {
            "Last-Modified": {
                "description": "meta.lastUpdated of the resource, as an HTTP date.",
                "schema": {"type": "string"},
            }
        }
    return {200: out}


_HANDLING_DOC = (
    " Unknown parameters follow `Prefer: handling`: `lenient` (the default) ignores them, `strict` answers a 400 "
    "OperationOutcome. `_format` (JSON only) and `_pretty` are accepted and ignored."
)


def _media_type(request: Request, items: list[tuple[str, str]]) -> str:
    formats = [v for k, v in items if k == "_format"]
    return negotiate(request.headers.get("accept"), formats[0] if formats else None)


def _http_date(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return format_datetime(datetime.fromisoformat(stamp), usegmt=True)


def _respond(
    body: dict[str, Any], media_type: str, *, ignored: bool = False, last_modified: str | None = None
) -> Response:
    headers = {"Vary": "Accept"}
    if ignored:
        headers |= _NO_STORE  # the answer depends on Prefer: handling (a strict client gets a 400)
    if last_modified:
        headers["Last-Modified"] = last_modified
    return Response(orjson.dumps(body), media_type=media_type + CHARSET, headers=headers)


def _catalogue(request: Request, model: ReadModelDep) -> Catalogue:
    """The app's catalogue of the read model this request answers from (no query)."""
    return catalogues(request.app).get(model)


def _mode(request: Request) -> str:
    return handling(request.headers.get("prefer"))


def _search(request: Request, model: ReadModelDep, items: list[tuple[str, str]], media_type: str) -> Response:
    settings: Settings = request.app.state.settings
    query = parse_search(
        items,
        default_count=settings.page_limit_default,
        max_count=settings.page_limit_max,
        mode=_mode(request),
    )
    cat = _catalogue(request, model)
    endpoint = f"{base_url(request)}{FHIR_PATH}/{RESOURCE}"
    bundle = search_bundle(cat.medication_knowledge, query, endpoint, cat.last_updated)
    return _respond(bundle, media_type, ignored=bool(query.ignored))


@router.get(
    "/metadata",
    operation_id="fhirCapabilities",
    summary="FHIR CapabilityStatement",
    description="What this FHIR R4 server supports: the interactions and search parameters of MedicationKnowledge, "
    "StructureDefinition, CodeSystem and ValueSet, conditional reads (If-None-Match), the handling of unknown "
    "parameters, and the canonical URLs it publishes. `mode` is accepted and ignored." + _HANDLING_DOC,
    responses={**_ok("CapabilityStatement", examples.CAPABILITY_EXAMPLE), **_errors(400)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def metadata(request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    _, ignored = sort_out(items, frozenset({"mode"}), _mode(request))
    return _respond(served(_catalogue(request, model).capability, base_url(request)), media_type, ignored=bool(ignored))


@router.get(
    "/MedicationKnowledge",
    operation_id="fhirSearchMedicationKnowledge",
    summary="Search MedicationKnowledge",
    description="A searchset Bundle. Parameters: `_id`, `code`, `classification`, `status` (tokens), `_lastUpdated` "
    "(date with prefixes eq, ne, gt, lt, ge, le, sa, eb), `_count`, `_offset`, `_summary`, `_elements`, `_sort` "
    "(`_id`, `_lastUpdated`, `-` descending), `_total`; see the "
    "CapabilityStatement for each one's documentation. With lenient handling, ignored parameters are left out of "
    "the `self` link and named in an OperationOutcome entry (`search.mode` = `outcome`)." + _HANDLING_DOC,
    responses={**_ok("Bundle (searchset)", examples.SEARCH_EXAMPLE), **_errors(400)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def search_get(request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    return _search(request, model, items, _media_type(request, items))


@router.post(
    "/MedicationKnowledge/_search",
    operation_id="fhirSearchMedicationKnowledgePost",
    summary="Search MedicationKnowledge (POST)",
    description="The same search with the parameters in an `application/x-www-form-urlencoded` body (and/or "
    "the URL). Any other body type is a 415." + _HANDLING_DOC,
    responses={**_ok("Bundle (searchset)", examples.SEARCH_EXAMPLE), **_errors(400, 415)},
    openapi_extra={
        "x-allow-extra-query-parameters": True,
        # Optional: an empty body is a search without parameters (all MedicationKnowledge), as on GET.
        "requestBody": {
            "required": False,
            "content": {"application/x-www-form-urlencoded": {"schema": {"type": "string"}}},
        },
    },
)
@allow_any_query_parameters
async def search_post(request: Request, model: ReadModelDep) -> Response:
    body = await request.body()
    require_form(request.headers.get("content-type"), body)
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FhirError(400, "invalid", "The form body is not UTF-8.") from None
    items = [*request.query_params.multi_items(), *form]
    return _search(request, model, items, _media_type(request, items))


# --- history ------------------------------------------------------------------------------------------


def _history_query(request: Request, items: list[tuple[str, str]]) -> tuple[SearchQuery, datetime | None]:
    settings: Settings = request.app.state.settings
    given, ignored = sort_out(items, frozenset({"_since", "_count", "_offset"}), _mode(request))
    query = SearchQuery(count=settings.page_limit_default, ignored=ignored)
    since = None
    if "_since" in given:
        raw = single("_since", given["_since"])
        condition = parse_date("_since", raw)
        if raw[:2].isalpha():
            raise FhirError(400, "invalid", "_since takes an instant without a prefix.")
        since = condition.low
        query.echo.append(("_since", raw))
    if "_count" in given:
        query.count = min(non_negative("_count", single("_count", given["_count"])), settings.page_limit_max)
    if "_offset" in given:
        query.offset = non_negative("_offset", single("_offset", given["_offset"]))
    return query, since


def _history_bundle(
    resources: list[dict[str, Any]], query: SearchQuery, since: datetime | None, endpoint: str, base: str
) -> dict[str, Any]:
    """A history Bundle of the current versions (the only ones held), newest first."""
    kept = [r for r in resources if since is None or ((t := last_updated(r)) is not None and t >= since)]
    kept.sort(key=lambda r: (r["meta"].get("lastUpdated", ""), r["id"]), reverse=True)
    page = kept[query.offset : query.offset + query.count] if query.count else []

    def link(relation: str, offset: int) -> dict[str, str]:
        params = [*query.echo, ("_count", str(query.count))]
        if offset:
            params.append(("_offset", str(offset)))
        return {"relation": relation, "url": f"{endpoint}?{urlencode(params)}"}

    links = [link("self", query.offset)]
    if query.count and query.offset + query.count < len(kept):
        links.append(link("next", query.offset + query.count))
    if query.offset > 0:
        links.append(link("previous", max(0, query.offset - query.count)))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "total": len(kept), "link": links}
    entries = []
    for r in page:
        response = {"status": "200 OK", "etag": f'W/"{r["meta"]["versionId"]}"'}
        if r["meta"].get("lastUpdated"):
            response["lastModified"] = r["meta"]["lastUpdated"]
        entries.append(
            {
                "fullUrl": f"{base}{FHIR_PATH}/{RESOURCE}/{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{RESOURCE}/{r['id']}"},
                "response": response,
            }
        )
    if entries:
        bundle["entry"] = entries
    return bundle


@router.get(
    "/MedicationKnowledge/_history",
    operation_id="fhirHistoryMedicationKnowledge",
    summary="History of all MedicationKnowledge resources",
    description="A history Bundle, newest first, of the versions this server holds: the current version of each "
    "resource (earlier versions are not kept). `_since` (an instant) keeps versions updated at or after it; "
    "`_count` and `_offset` page." + _HANDLING_DOC,
    responses={**_ok("Bundle (history)", examples.HISTORY_EXAMPLE), **_errors(400)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def history_type(request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    query, since = _history_query(request, items)
    base = base_url(request)
    resources = list(_catalogue(request, model).medication_knowledge.values())
    bundle = _history_bundle(resources, query, since, f"{base}{FHIR_PATH}/{RESOURCE}/_history", base)
    return _respond(bundle, media_type, ignored=bool(query.ignored))


def _resource_or_404(cat: Catalogue, resource_id: str) -> dict[str, Any]:
    resource = cat.medication_knowledge.get(resource_id)
    if resource is None:
        raise FhirError(404, "not-found", f"No {RESOURCE} with id {resource_id!r}.")
    return resource


@router.get(
    "/MedicationKnowledge/{resource_id}",
    operation_id="fhirReadMedicationKnowledge",
    summary="Read a MedicationKnowledge",
    description="The drug (`naltrexone`) or a regimen (its slug), with `meta.versionId`, `meta.lastUpdated` and a "
    "`Last-Modified` header. `_summary` (true, text, data, false) and `_elements` are allowed; `If-None-Match` "
    "with the ETag answers 304." + _HANDLING_DOC,
    responses={**_ok("MedicationKnowledge", examples.READ_EXAMPLE, last_modified=True), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def read(resource_id: MkId, request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    if resource_id == "_search":
        raise FhirError(
            405, "not-supported", "_search takes POST; use GET on the type for a URL search.", headers={"Allow": "POST"}
        )
    options = parse_read(items, _mode(request))
    resource = _resource_or_404(_catalogue(request, model), resource_id)
    return _respond(
        summarize(resource, options.summary, options.elements),
        media_type,
        ignored=bool(options.ignored),
        last_modified=_http_date(resource["meta"].get("lastUpdated")),
    )


@router.get(
    "/MedicationKnowledge/{resource_id}/_history",
    operation_id="fhirHistoryMedicationKnowledgeInstance",
    summary="History of one MedicationKnowledge",
    description="A history Bundle of the versions of this resource that the server holds: the current one (earlier "
    "versions are not kept; `total` says how many are listed). `_since` (an instant) keeps it only when it was "
    "updated at or after then." + _HANDLING_DOC,
    responses={**_ok("Bundle (history)", examples.INSTANCE_HISTORY_EXAMPLE), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def history_instance(resource_id: MkId, request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    query, since = _history_query(request, items)
    resource = _resource_or_404(_catalogue(request, model), resource_id)
    base = base_url(request)
    endpoint = f"{base}{FHIR_PATH}/{RESOURCE}/{resource_id}/_history"
    return _respond(_history_bundle([resource], query, since, endpoint, base), media_type, ignored=bool(query.ignored))


@router.get(
    "/MedicationKnowledge/{resource_id}/_history/{version_id}",
    operation_id="fhirVreadMedicationKnowledge",
    summary="Read one version of a MedicationKnowledge (vread)",
    description="The resource as it is at `version_id` (its `meta.versionId`). Only the current version is held: "
    "any other version is a 404 OperationOutcome naming the current one." + _HANDLING_DOC,
    responses={**_ok("MedicationKnowledge", examples.READ_EXAMPLE, last_modified=True), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def vread(resource_id: MkId, version_id: VersionId, request: Request, model: ReadModelDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    options = parse_read(items, _mode(request))
    resource = _resource_or_404(_catalogue(request, model), resource_id)
    current = resource["meta"]["versionId"]
    if version_id != current:
        raise FhirError(
            404,
            "not-found",
            f"Version {version_id!r} of {RESOURCE}/{resource_id} is not held: this server keeps the current "
            f"version only ({current}).",
        )
    return _respond(
        summarize(resource, options.summary, options.elements),
        media_type,
        ignored=bool(options.ignored),
        last_modified=_http_date(resource["meta"].get("lastUpdated")),
    )


# --- definitions: StructureDefinition, CodeSystem, ValueSet ---------------------------------------------


def _definition_search(kind: str) -> Callable[[Request, ReadModelDep], Response]:
    def endpoint(request: Request, model: ReadModelDep) -> Response:
        settings: Settings = request.app.state.settings
        items = request.query_params.multi_items()
        media_type = _media_type(request, items)
        query = parse_search(
            items,
            default_count=settings.page_limit_default,
            max_count=settings.page_limit_max,
            mode=_mode(request),
            kind=kind,
            params=DEFINITION_PARAMS,
        )
        cat = _catalogue(request, model)
        type_url = f"{base_url(request)}{FHIR_PATH}/{kind}"
        bundle = search_bundle(cat.definitions(kind), query, type_url, cat.last_updated)
        return _respond(bundle, media_type, ignored=bool(query.ignored))

    return allow_any_query_parameters(endpoint)


def _definition_read(kind: str) -> Callable[[str, Request, ReadModelDep], Response]:
    def endpoint(resource_id: str, request: Request, model: ReadModelDep) -> Response:
        items = request.query_params.multi_items()
        media_type = _media_type(request, items)
        options = parse_read(items, _mode(request), kind)
        table = _catalogue(request, model).definitions(kind)
        resource = table.get(resource_id)
        if resource is None:
            published = ", ".join(sorted(table))
            raise FhirError(404, "not-found", f"No {kind} with id {resource_id!r}. Published: {published}.")
        return _respond(
            summarize(resource, options.summary, options.elements),
            media_type,
            ignored=bool(options.ignored),
            last_modified=_http_date(resource["meta"].get("lastUpdated")),
        )

    # the path parameter documented per type (an annotation object, as `from __future__` leaves names unresolved)
    endpoint.__annotations__["resource_id"] = Annotated[
        str, Path(description=f"The {kind}'s id.", examples=[_DEFINITION_EXAMPLE[kind]])
    ]
    return allow_any_query_parameters(endpoint)


_WHAT = {
    "StructureDefinition": "the extensions we define",
    "CodeSystem": "the code systems we define",
    "ValueSet": "the value sets of our code systems (what our required bindings allow)",
}

for _kind in DEFINITION_KINDS:
    router.add_api_route(
        f"/{_kind}",
        _definition_search(_kind),
        methods=["GET"],
        operation_id=f"fhirSearch{_kind}",
        summary=f"Search {_kind} resources",
        description=f"A searchset Bundle of {_WHAT[_kind]}. Look one up by its canonical URL with `url` (exact), "
        "or by `_id`, `version`, `status`, `_lastUpdated`; `_count`, `_offset`, `_summary` (true, text, data, "
        "false, count), `_elements`, `_sort` and `_total` as for MedicationKnowledge." + _HANDLING_DOC,
        responses={**_ok("Bundle (searchset)", examples.DEFINITION_SEARCH_EXAMPLE), **_errors(400)},
        openapi_extra={"x-allow-extra-query-parameters": True},
    )
    router.add_api_route(
        f"/{_kind}/{{resource_id}}",
        _definition_read(_kind),
        methods=["GET"],
        operation_id=f"fhirRead{_kind}",
        summary=f"Read a {_kind}",
        description=f"One of {_WHAT[_kind]}, by id, with `meta.versionId`, `meta.lastUpdated` and a `Last-Modified` "
        "header. Its `url` is its canonical URL, fixed by configuration (LDNKB_FHIR_CANONICAL_BASE) and never "
        "taken from the request." + _HANDLING_DOC,
        responses={**_ok(_kind, _DEFINITION_READ_EXAMPLE[_kind], last_modified=True), **_errors(400, 404)},
        openapi_extra={"x-allow-extra-query-parameters": True},
    )
