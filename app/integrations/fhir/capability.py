"""The CapabilityStatement: exactly what ``/fhir/R4`` supports."""

from __future__ import annotations

from typing import Any

from app import __version__
from app.integrations.fhir.extensions import FHIR_PATH, FHIR_VERSION, PUBLISHER, canonical
from app.integrations.fhir.mapping import __doc__ as MAPPING_DOC
from app.integrations.fhir.search import SEARCH_PARAMS

DOCUMENTATION = (
    "Read-only FHIR R4 facade of ldn-kb, a sourced knowledge base about naltrexone and low-dose naltrexone. "
    "Reference information, not medical advice. JSON only (application/fhir+json; application/json is "
    "accepted): an XML Accept or _format=xml is a 406. Every error is an OperationOutcome. Resources: one "
    "MedicationKnowledge per drug (id naltrexone) and per dosing regimen (id = regimen slug), plus the "
    "StructureDefinitions of our extensions and the CodeSystems of our codes."
)


def _interactions(*codes: str) -> list[dict[str, str]]:
    return [{"code": c} for c in codes]


def capability_statement(
    base: str, date: str, extension_ids: list[str], code_system_ids: list[str], *, cors: bool
) -> dict[str, Any]:
    definitions = [canonical(base, "StructureDefinition", i) for i in extension_ids]
    systems = [canonical(base, "CodeSystem", i) for i in code_system_ids]
    mk_doc = (MAPPING_DOC or "").strip() + "\n\nExtensions used: " + ", ".join(definitions) + "."
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
        "implementation": {"description": "ldn-kb FHIR R4 read-only facade", "url": f"{base}{FHIR_PATH}"},
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
                    {
                        "type": "MedicationKnowledge",
                        "profile": "http://hl7.org/fhir/StructureDefinition/MedicationKnowledge",
                        "documentation": mk_doc,
                        "interaction": _interactions("read", "search-type"),
                        "versioning": "no-version",
                        "readHistory": False,
                        "updateCreate": False,
                        "conditionalCreate": False,
                        "conditionalRead": "not-supported",
                        "conditionalUpdate": False,
                        "conditionalDelete": "not-supported",
                        "searchParam": [
                            {"name": name, "definition": definition, "type": kind, "documentation": doc}
                            for name, kind, definition, doc in SEARCH_PARAMS
                        ],
                    },
                    {
                        "type": "StructureDefinition",
                        "documentation": "The extensions this server defines: " + ", ".join(definitions) + ".",
                        "interaction": _interactions("read"),
                        "versioning": "no-version",
                    },
                    {
                        "type": "CodeSystem",
                        "documentation": "The code systems this server defines: " + ", ".join(systems) + ".",
                        "interaction": _interactions("read"),
                        "versioning": "no-version",
                    },
                ],
            }
        ],
    }
