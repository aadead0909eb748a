"""The CapabilityStatement: exactly what ``/fhir/R4`` supports, in words written for integrators.

It is built once per content version (with the canonical URLs, which never depend on the request); the
``implementation.url`` (this server's address, a link) is filled in when it is served.
"""

from __future__ import annotations

from typing import Any

from app import __version__
from app.integrations.fhir.extensions import FHIR_PATH, FHIR_VERSION, PUBLISHER, canonical
from app.integrations.fhir.search import DEFINITION_PARAMS, MK_PARAMS, Param

DOCUMENTATION = (
    "Read-only FHIR R4 facade of ldn-kb, a sourced knowledge base about naltrexone and low-dose naltrexone. "
    "Reference information, not medical advice. JSON only (application/fhir+json; charset=utf-8; "
    "application/json is accepted): an XML Accept or _format=xml is a 406. Every error is an OperationOutcome. "
    "Search honours Prefer: handling=lenient (the default: unknown parameters are ignored, left out of the "
    "Bundle's self link and named in an OperationOutcome entry with search.mode outcome) and "
    "Prefer: handling=strict (unknown parameters are a 400). Reads and searches answer a strong ETag; "
    "If-None-Match answers 304 (If-Modified-Since is not evaluated). Reads carry Last-Modified. "
    "Resources: one MedicationKnowledge per drug (id naltrexone) and per dosing regimen (id = regimen slug), "
    "plus the StructureDefinitions of our extensions, our CodeSystems and a ValueSet of all codes of each. "
    "Their canonical URLs are fixed by configuration; resolve one with GET [type]?url=."
)

MK_DOCUMENTATION = (
    "One MedicationKnowledge per drug (id = drug slug) and one per dosing regimen (id = regimen slug), linked "
    "both ways by relatedMedicationKnowledge. Each source's dose range is an administrationGuidelines entry "
    "whose dosage gives doseAndRate.doseRange in UCUM, attributed to the one source that states it "
    "(source-citation extension) and typed dose-range or reference-dose-range. Each indication is an "
    "administrationGuidelines entry with indicationCodeableConcept (ICD-10-CM, SNOMED CT), an evidence-level, "
    "an off-label flag and its sources. Receptor targets are medicineClassification entries beside the WHO ATC "
    "class; mechanisms are drugCharacteristic entries with their evidence level and sources. Label "
    "contraindications are contained DetectedIssue resources referenced from contraindication; label warnings "
    "that are not contraindications are contained DetectedIssues referenced from the label-warning extension. "
    "meta.versionId changes exactly when the "
    "resource's content changes; meta.lastUpdated is the latest update of the records it is built from. "
    "History holds the current version only: earlier versions are not kept, so vread answers the current "
    "versionId and a 404 for any other."
)


BULK_EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
BULK_EXPORT_DOCUMENTATION = (
    "FHIR Bulk Data Access, system level: GET [base]/$export with Prefer: respond-async answers 202 and a "
    "status URL in Content-Location; poll it until 200 and the manifest; each output is NDJSON "
    "(application/fhir+ndjson). Exports MedicationKnowledge, StructureDefinition, CodeSystem and ValueSet; "
    "parameters _type, _since and _outputFormat (application/fhir+ndjson); _typeFilter, _elements, patient "
    "and includeAssociatedData are refused (400). DELETE on the status URL cancels. No authorization: the "
    "content is public (requiresAccessToken false). Patient and Group level export do not apply: no patient "
    "data is held."
)


def _interactions(*codes: str) -> list[dict[str, str]]:
    return [{"code": c} for c in codes]


def _search_params(params: tuple[Param, ...]) -> list[dict[str, str]]:
    out = []
    for p in params:
        entry = {"name": p.name}
        if p.definition:
            entry["definition"] = p.definition
        entry |= {"type": p.type, "documentation": p.documentation}
        out.append(entry)
    return out


def _resource(
    kind: str,
    documentation: str,
    interactions: list[dict[str, str]],
    params: tuple[Param, ...],
    profile: str | None = None,
) -> dict[str, Any]:
    """One ``rest.resource``: read-only and versioned, conditional reads by If-None-Match, as every type here is."""
    head: dict[str, Any] = {"type": kind}
    if profile:
        head["profile"] = profile
    return {
        **head,
        "documentation": documentation,
        "interaction": interactions,
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalRead": "not-match",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": _search_params(params),
    }


def _definition_resource(kind: str, urls: list[str], what: str) -> dict[str, Any]:
    documentation = f"{what} Published: " + ", ".join(urls) + "."
    return _resource(kind, documentation, _interactions("read", "search-type"), DEFINITION_PARAMS)


def capability_statement(
    base: str,
    date: str,
    definition_urls: list[str],
    system_urls: list[str],
    value_set_urls: list[str],
    *,
    cors: bool,
) -> dict[str, Any]:
    """The statement under the canonical ``base``; ``implementation.url`` is set per answer by :func:`served`."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "ldn-kb",
        "url": canonical(base, "CapabilityStatement", "ldn-kb"),
        "version": __version__,
        "name": "LdnKbFhirFacade",
        "title": "ldn-kb FHIR R4 facade",
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": PUBLISHER,
        "description": DOCUMENTATION,
        "kind": "instance",
        "software": {"name": "ldn-kb", "version": __version__},
        "implementation": {"description": "ldn-kb FHIR R4 read-only facade"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": DOCUMENTATION,
                "security": {
                    "cors": cors,
                    "description": "Public, read-only reference content: no authentication.",
                },
                "resource": [
                    _resource(
                        "MedicationKnowledge",
                        MK_DOCUMENTATION + " Extensions used: " + ", ".join(definition_urls) + ".",
                        _interactions("read", "vread", "history-instance", "history-type", "search-type"),
                        MK_PARAMS,
                        profile="http://hl7.org/fhir/StructureDefinition/MedicationKnowledge",
                    ),
                    _definition_resource("StructureDefinition", definition_urls, "The extensions this server defines."),
                    _definition_resource("CodeSystem", system_urls, "The code systems this server defines."),
                    _definition_resource(
                        "ValueSet", value_set_urls, "For each of our code systems, the value set of all its codes."
                    ),
                ],
                "operation": [
                    {
                        "name": "export",
                        "definition": BULK_EXPORT_DEFINITION,
                        "documentation": BULK_EXPORT_DOCUMENTATION,
                    }
                ],
            }
        ],
    }


def served(statement: dict[str, Any], base: str) -> dict[str, Any]:
    """The statement as answered: ``implementation.url`` is this server's FHIR base (a link, per request)."""
    out = dict(statement)
    out["implementation"] = {**statement["implementation"], "url": f"{base}{FHIR_PATH}"}
    return out
