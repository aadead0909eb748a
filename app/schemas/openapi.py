"""The documented 200 (and 304) responses of the read routes, merged with their problem responses.

The routes send prebuilt bytes for speed; these entries only describe them in the OpenAPI document:
the public model, a real example, and the caching headers every GET answers with.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.schemas.examples import example, example_if_any

CACHE_HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "Strong validator of this representation (the same bytes give the same tag on every "
        "instance); send it back in `If-None-Match` to get a 304.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "Freshness for browsers and CDNs, e.g. `public, max-age=300, stale-while-revalidate=3600` "
        "(set by LDNKB_CACHE_MAX_AGE and LDNKB_CACHE_STALE_WHILE_REVALIDATE).",
        "schema": {"type": "string"},
    },
}
LINK_HEADER: dict[str, Any] = {
    "Link": {
        "description": 'The next page, `<https://...>; rel="next"`, when there is one (same URL as `links.next`).',
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED: dict[str, Any] = {
    "description": "Not modified: `If-None-Match` matched the current ETag. No body; ETag and Cache-Control repeat.",
    "headers": CACHE_HEADERS,
}


def _with_example(name: str) -> dict[str, Any]:
    found = example_if_any(name)
    return {} if found is None else {"example": found}


def ok(model: type[BaseModel], description: str, example_name: str, *, paged: bool = False) -> dict[int | str, Any]:
    """The 200 and 304 entries of a GET operation's ``responses=``."""
    headers = {**CACHE_HEADERS, **LINK_HEADER} if paged else CACHE_HEADERS
    return {
        200: {
            "model": model,
            "description": description,
            "headers": headers,
            "content": {"application/json": _with_example(example_name)},
        },
        304: NOT_MODIFIED,
    }


# --- Examples and descriptions for the operations whose routes do not carry their own -------------------
# Each entry names examples of examples.json (recorded by `ldn-kb build-examples` from real answers); they
# are attached when the document is built, only where the route declared none, so a route that documents
# its own keeps it. operationId -> media type -> example name.
RESPONSE_EXAMPLES: dict[str, dict[str, str]] = {
    "checkDose": {"application/json": "dose_check"},
    "checkDoseByQuery": {"application/json": "dose_check_query"},
    "cdsDiscovery": {"application/json": "cds_discovery"},
    "cdsCall": {"application/json": "cds_response"},
    "cdsFeedback": {"application/json": "cds_feedback_response"},
    "infobuttonKnowledgeRequest": {"application/json": "infobutton_json", "text/xml": "infobutton_atom"},
    "fhirCapabilities": {"application/fhir+json": "fhir_capability_statement"},
    "fhirSearchMedicationKnowledge": {"application/fhir+json": "fhir_searchset"},
    "fhirSearchMedicationKnowledgePost": {"application/fhir+json": "fhir_searchset"},
    "fhirReadMedicationKnowledge": {"application/fhir+json": "fhir_medication_knowledge"},
    "fhirReadStructureDefinition": {"application/fhir+json": "fhir_structure_definition"},
    "fhirReadCodeSystem": {"application/fhir+json": "fhir_code_system"},
    "search": {"application/json": "search"},
    "getRecordPage": {"text/html": "page_record"},
    "getCollectionPage": {"text/html": "page_collection"},
    "getPagesIndex": {"text/html": "page_index"},
    "getPagesStylesheet": {"text/css": "pages_css"},
    "fhirBulkExportStatus": {"application/json": "fhir_bulk_manifest"},
    "fhirBulkExportOutput": {"application/fhir+ndjson": "fhir_bulk_ndjson"},
}
REQUEST_EXAMPLES: dict[str, dict[str, str]] = {
    "checkDose": {"application/json": "dose_check_request"},
    "cdsCall": {"application/json": "cds_request"},
    "cdsFeedback": {"application/json": "cds_feedback_request"},
    "fhirSearchMedicationKnowledgePost": {"application/x-www-form-urlencoded": "fhir_search_form"},
}
#: Descriptions for operations declared without one (the route's own description wins).
DESCRIPTIONS: dict[str, str] = {
    "fhirReadStructureDefinition": "The StructureDefinition of an extension this server puts on its "
    "MedicationKnowledge resources (its canonical URL is this path); `_summary` and `_elements` are not "
    "applied. 404 OperationOutcome for an id it does not publish.",
    "fhirReadCodeSystem": "A CodeSystem of codes this server defines and uses in its resources (its canonical "
    "URL is this path). 404 OperationOutcome for an id it does not publish.",
}


def _plain_optional(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` of an optional query parameter as plain ``X``: the parameter is simply left out
    when there is no value (a query string has no null), and the docs then show ``string``, not
    ``string | null``."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == len(options) or not kept:
        return schema
    if sorted(option.get("type", "") for option in kept) == ["number", "string"]:
        kept = [{"type": "number"}]  # a Decimal: a number in the query string
    cleaned = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1:
        cleaned.update(kept[0])
    else:
        cleaned["anyOf"] = kept
    if cleaned.get("default", 0) is None:
        del cleaned["default"]
    return cleaned


def enrich(document: dict[str, Any]) -> dict[str, Any]:
    """Attach the recorded examples and missing descriptions, and give optional parameters plain types."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            if op_id in DESCRIPTIONS and not operation.get("description"):
                operation["description"] = DESCRIPTIONS[op_id]
            for parameter in operation.get("parameters", []):
                if not parameter.get("required") and "schema" in parameter:
                    parameter["schema"] = _plain_optional(parameter["schema"])
            ok_response = operation.get("responses", {}).get("200")
            if ok_response is not None:
                content = ok_response.setdefault("content", {})
                for media_type, name in RESPONSE_EXAMPLES.get(op_id, {}).items():
                    entry = content.setdefault(media_type, {"schema": {"type": "string"}})
                    if "example" not in entry and "examples" not in entry:
                        entry["example"] = example(name)
                # FastAPI's default `application/json: {schema: {}}` beside the real FHIR media type says nothing.
                if "application/fhir+json" in content and content.get("application/json") == {"schema": {}}:
                    del content["application/json"]
            for media_type, name in REQUEST_EXAMPLES.get(op_id, {}).items():
                body = operation.setdefault("requestBody", {"required": True, "content": {}})
                entry = body.setdefault("content", {}).setdefault(media_type, {"schema": {"type": "string"}})
                if "example" not in entry and "examples" not in entry:
                    entry["example"] = example(name)
    return document


def install_openapi(app: FastAPI) -> None:
    """Build ``app``'s OpenAPI document once, with :func:`enrich` applied."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = enrich(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
