"""OpenAPI links: which answer gives the values another operation takes, declared once, added to the spec.

A link tells a reader (and a client generator, and schemathesis' stateful phase) how to go on from an
answer: the ``slug`` of a list's first item to its detail, the detail to its revisions, a FHIR search's first
entry to its read, a read to its version, the Bulk Data kick-off to its status. Only links that hold for
every successful answer are declared (a list may be empty: then its link has nothing to follow).

The job id of a Bulk Data export is only given inside the ``Content-Location`` URL of the kick-off; its link
picks it out with a ``#regex:`` suffix on the runtime expression, an extension schemathesis reads (other
tools show the expression as text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.kinds import KINDS


@dataclass(frozen=True)
class Link:
    source: str  # operationId of the answer
    status: str  # its response status
    name: str
    target: str  # operationId to go on with
    parameters: dict[str, str] = field(default_factory=dict)
    description: str = ""


def _kind_links() -> list[Link]:
    out: list[Link] = []
    for kind in KINDS:
        suffix = kind.operation_suffix
        out += [
            Link(
                f"list{suffix}s",
                "200",
                f"get{suffix}",
                f"get{suffix}",
                {"slug": "$response.body#/data/0/slug"},
                f"The first {kind.singular} of the page.",
            ),
            Link(
                f"get{suffix}",
                "200",
                f"list{suffix}Revisions",
                f"list{suffix}Revisions",
                {"slug": "$response.body#/data/slug"},
                f"Every revision of this {kind.singular}.",
            ),
            Link(
                f"get{suffix}",
                "200",
                f"get{suffix}Revision",
                f"get{suffix}Revision",
                {"slug": "$response.body#/data/slug", "number": "$response.body#/data/version"},
                f"The revision of this {kind.singular} that is current.",
            ),
            Link(
                f"list{suffix}Revisions",
                "200",
                f"get{suffix}Revision",
                f"get{suffix}Revision",
                {"slug": "$request.path.slug", "number": "$response.body#/data/0/version"},
                "The first revision.",
            ),
        ]
    return out


def _fhir_links() -> list[Link]:
    first_entry = {"resource_id": "$response.body#/entry/0/resource/id"}
    out = [
        Link(search, "200", "read", "fhirReadMedicationKnowledge", first_entry, "The first resource of the Bundle.")
        for search in ("fhirSearchMedicationKnowledge", "fhirSearchMedicationKnowledgePost")
    ]
    out += [
        Link(
            "fhirReadMedicationKnowledge",
            "200",
            "vread",
            "fhirVreadMedicationKnowledge",
            {"resource_id": "$response.body#/id", "version_id": "$response.body#/meta/versionId"},
            "This version of the resource.",
        ),
        Link(
            "fhirReadMedicationKnowledge",
            "200",
            "history",
            "fhirHistoryMedicationKnowledgeInstance",
            {"resource_id": "$response.body#/id"},
            "The history of the resource.",
        ),
    ]
    out += [
        Link(f"fhirSearch{kind}", "200", "read", f"fhirRead{kind}", first_entry, f"The first {kind} of the Bundle.")
        for kind in ("StructureDefinition", "CodeSystem", "ValueSet")
    ]
    job = {"job": r"$response.header.Content-Location#regex:/\$export-status/([^/?#]+)$"}
    out += [
        Link("fhirBulkExportKickOff", "202", "status", "fhirBulkExportStatus", job, "Poll the export."),
        Link("fhirBulkExportKickOff", "202", "cancel", "fhirBulkExportCancel", job, "Cancel the export."),
    ]
    return out


def _other_links() -> list[Link]:
    return [
        Link(
            "cdsDiscovery",
            "200",
            "call",
            "cdsCall",
            {"service_id": "$response.body#/services/0/id"},
            "Call the first service offered.",
        ),
        Link(
            "cdsCall",
            "200",
            "feedback",
            "cdsFeedback",
            {"service_id": "$request.path.service_id"},
            "Send feedback on this service's cards.",
        ),
        Link(
            "listProblemTypes",
            "200",
            "problem",
            "getProblemType",
            {"slug": "$response.body#/data/0/type#regex:^/problems/(.+)$"},
            "The first problem type's page.",
        ),
    ]


LINKS: tuple[Link, ...] = (*_kind_links(), *_fhir_links(), *_other_links())


def add_links(document: dict[str, Any], links: tuple[Link, ...] = LINKS) -> None:
    """Put each declared link on its source response; a link whose operations are not in the document is a
    mistake in this table, so it fails loudly."""
    operations: dict[str, dict[str, Any]] = {}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = operation
    for link in links:
        if link.target not in operations:
            raise KeyError(f"link {link.name!r} of {link.source}: no operation {link.target}")
        response = operations[link.source]["responses"][link.status]
        entry: dict[str, Any] = {"operationId": link.target, "parameters": dict(link.parameters)}
        if link.description:
            entry["description"] = link.description
        response.setdefault("links", {})[link.name] = entry
