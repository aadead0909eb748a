"""``/fhir/R4``: thin routes. Negotiate, parse parameters, look up the catalogue, answer JSON.

Every route validates its own query parameters (FHIR's rule: an unknown parameter is a 400
OperationOutcome; ``_format`` and ``_pretty`` are ignored), so the app-wide unknown-parameter check is
switched off for them with ``allow_any_query_parameters``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import SessionDep, allow_any_query_parameters
from app.api.responses import base_url
from app.integrations.fhir.catalogue import Catalogue, catalogue
from app.integrations.fhir.errors import FHIR_JSON, FhirError, operation_outcome
from app.integrations.fhir.extensions import FHIR_PATH
from app.integrations.fhir.negotiation import negotiate, require_form
from app.integrations.fhir.search import (
    RESOURCE,
    parse_plain,
    parse_read,
    parse_search,
    search_bundle,
    summarize,
)
from app.settings import Settings

router = APIRouter(prefix=FHIR_PATH, tags=["fhir"])

_OUTCOME_EXAMPLE = operation_outcome("not-found", "No MedicationKnowledge with id 'x'.")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {
            "description": "OperationOutcome",
            "content": {FHIR_JSON: {"schema": {"type": "object"}, "example": _OUTCOME_EXAMPLE}},
        }
        for s in (*statuses, 406, 500)
    }


def _ok(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}}


def _media_type(request: Request, items: list[tuple[str, str]]) -> str:
    formats = [v for k, v in items if k == "_format"]
    return negotiate(request.headers.get("accept"), formats[0] if formats else None)


def _respond(body: dict[str, Any], media_type: str) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers={"Vary": "Accept"})


def _catalogue(request: Request, session: SessionDep) -> Catalogue:
    settings: Settings = request.app.state.settings
    return catalogue(session, base_url(request), cors=bool(settings.cors_origins))


def _search(request: Request, session: SessionDep, items: list[tuple[str, str]], media_type: str) -> Response:
    settings: Settings = request.app.state.settings
    query = parse_search(items, default_count=settings.page_limit_default, max_count=settings.page_limit_max)
    cat = _catalogue(request, session)
    return _respond(search_bundle(cat.medication_knowledge, query, base_url(request), cat.last_updated), media_type)


@router.get(
    "/metadata",
    operation_id="fhirCapabilities",
    summary="FHIR CapabilityStatement",
    description="What this FHIR R4 server supports: MedicationKnowledge read and search, its search "
    "parameters, and the StructureDefinitions and CodeSystems it publishes. `mode` is accepted and ignored.",
    responses={**_ok("CapabilityStatement"), **_errors(400)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def metadata(request: Request, session: SessionDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    parse_plain(items, frozenset({"mode"}))
    return _respond(_catalogue(request, session).capability, media_type)


@router.get(
    "/MedicationKnowledge",
    operation_id="fhirSearchMedicationKnowledge",
    summary="Search MedicationKnowledge",
    description="A searchset Bundle. Parameters: `_id`, `code`, `classification`, `status` (tokens), "
    "`_count`, `_offset`, `_summary`; see the CapabilityStatement for each one's documentation.",
    responses={**_ok("Bundle (searchset)"), **_errors(400)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def search_get(request: Request, session: SessionDep) -> Response:
    items = request.query_params.multi_items()
    return _search(request, session, items, _media_type(request, items))


@router.post(
    "/MedicationKnowledge/_search",
    operation_id="fhirSearchMedicationKnowledgePost",
    summary="Search MedicationKnowledge (POST)",
    description="The same search with the parameters in an `application/x-www-form-urlencoded` body (and/or "
    "the URL). Any other body type is a 415.",
    responses={**_ok("Bundle (searchset)"), **_errors(400, 415)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
async def search_post(request: Request, session: SessionDep) -> Response:
    body = await request.body()
    require_form(request.headers.get("content-type"), body)
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FhirError(400, "invalid", "The form body is not UTF-8.") from None
    items = [*request.query_params.multi_items(), *form]
    return _search(request, session, items, _media_type(request, items))


@router.get(
    "/MedicationKnowledge/{resource_id}",
    operation_id="fhirReadMedicationKnowledge",
    summary="Read a MedicationKnowledge",
    description="The drug (`naltrexone`) or a regimen (its slug). `_summary` (true, text, data, false) is allowed.",
    responses={**_ok("MedicationKnowledge"), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def read(resource_id: str, request: Request, session: SessionDep) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    if resource_id == "_search":
        raise FhirError(
            405, "not-supported", "_search takes POST; use GET on the type for a URL search.", headers={"Allow": "POST"}
        )
    summary = parse_read(items)
    resource = _catalogue(request, session).medication_knowledge.get(resource_id)
    if resource is None:
        raise FhirError(404, "not-found", f"No {RESOURCE} with id {resource_id!r}.")
    return _respond(summarize(resource, summary), media_type)


def _definition(kind: str, table: dict[str, dict[str, Any]], ident: str, request: Request) -> Response:
    items = request.query_params.multi_items()
    media_type = _media_type(request, items)
    parse_plain(items)
    resource = table.get(ident)
    if resource is None:
        raise FhirError(404, "not-found", f"No {kind} with id {ident!r}. Published: {', '.join(sorted(table))}.")
    return _respond(resource, media_type)


@router.get(
    "/StructureDefinition/{resource_id}",
    operation_id="fhirReadStructureDefinition",
    summary="Read the StructureDefinition of an extension we define",
    responses={**_ok("StructureDefinition"), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def read_structure_definition(resource_id: str, request: Request, session: SessionDep) -> Response:
    return _definition("StructureDefinition", _catalogue(request, session).structure_definitions, resource_id, request)


@router.get(
    "/CodeSystem/{resource_id}",
    operation_id="fhirReadCodeSystem",
    summary="Read a CodeSystem we define",
    responses={**_ok("CodeSystem"), **_errors(400, 404)},
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def read_code_system(resource_id: str, request: Request, session: SessionDep) -> Response:
    return _definition("CodeSystem", _catalogue(request, session).code_systems, resource_id, request)
