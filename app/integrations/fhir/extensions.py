"""The extensions this facade defines, published as StructureDefinitions (FHIR R4 4.0.1).

Canonical URLs are ``{canonical}/StructureDefinition/{id}``, where ``canonical`` is the configured
``LDNKB_FHIR_CANONICAL_BASE``: an identity fixed by configuration, never derived from the request (a client's
``Host`` header changes no canonical URL). Clients resolve them with ``GET /fhir/R4/StructureDefinition?url=``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from app.domain.disclaimer import SHORT_DISCLAIMER

FHIR_PATH = "/fhir/R4"
FHIR_VERSION = "4.0.1"
PUBLISHER = "ldn-kb maintainers"
XHTML = "http://www.w3.org/1999/xhtml"


def narrative(*paragraphs: str) -> dict[str, Any]:
    """A resource's narrative (``text``, status ``additional``): the paragraphs as XHTML."""
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    return {"status": "additional", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def disclaimed(resource: dict[str, Any], *paragraphs: str) -> dict[str, Any]:
    """``resource`` with a narrative of ``paragraphs`` and the disclaimer, after its id (every answer says it)."""
    return {
        "resourceType": resource["resourceType"],
        "id": resource["id"],
        "text": narrative(*paragraphs, SHORT_DISCLAIMER),
        **resource,
    }


@dataclass(frozen=True, slots=True)
class ExtensionDef:
    id: str
    name: str
    title: str
    value_type: str  # the FHIR type of value[x]
    description: str
    contexts: tuple[str, ...]
    target_profile: str | None = None  # for Reference values
    binding: str | None = None  # CodeSystem id whose codes the value uses


SOURCE_CITATION = "source-citation"
EVIDENCE_LEVEL = "evidence-level"
OFF_LABEL = "off-label"
REGIMEN = "regimen"
VERIFICATION = "verification"
LABEL_WARNING = "label-warning"
CODE_NOTE = "code-note"

MK = "MedicationKnowledge"
GUIDELINE = "MedicationKnowledge.administrationGuidelines"

EXTENSIONS: dict[str, ExtensionDef] = {
    e.id: e
    for e in (
        ExtensionDef(
            SOURCE_CITATION,
            "SourceCitation",
            "Source citation",
            "RelatedArtifact",
            "A source that states this element's content (a label, regulatory record, trial, review or article), "
            "modelled on the core artifact-relatedArtifact extension: type `citation`, `label` = the source's slug "
            "in ldn-kb (/v1/sources/{slug}), `display` = its title, `citation` = authors, journal and year, `url` = "
            "its canonical link when known. On a dose-range guideline it names the one source that states that range.",
            (MK, GUIDELINE, f"{MK}.drugCharacteristic", f"{MK}.medicineClassification", "DetectedIssue"),
        ),
        ExtensionDef(
            EVIDENCE_LEVEL,
            "EvidenceLevel",
            "Evidence level",
            "Coding",
            "How strong the best checked evidence for the use or mechanism is, by study design (never by a source's "
            "enthusiasm, nor by the direction of the result), from the ldn-kb evidence-level code system.",
            (GUIDELINE, f"{MK}.drugCharacteristic"),
            binding="evidence-level",
        ),
        ExtensionDef(
            OFF_LABEL,
            "OffLabel",
            "Off-label",
            "boolean",
            "true when the use (an indication guideline) or the whole regimen is not approved by the FDA; false when "
            "it is approved.",
            (MK, GUIDELINE),
        ),
        ExtensionDef(
            REGIMEN,
            "Regimen",
            "Regimen",
            "Reference",
            "The dosing regimen (its own MedicationKnowledge resource) that a guideline or mechanism belongs to.",
            (GUIDELINE, f"{MK}.drugCharacteristic"),
            target_profile="http://hl7.org/fhir/StructureDefinition/MedicationKnowledge",
        ),
        ExtensionDef(
            LABEL_WARNING,
            "LabelWarning",
            "Label warning",
            "Reference",
            "A warning of a drug label that is not a contraindication (the hepatotoxicity warning that remains after "
            "the boxed warning was removed), as a contained DetectedIssue: R4 MedicationKnowledge.contraindication "
            "holds the label's contraindications only.",
            (MK,),
            target_profile="http://hl7.org/fhir/StructureDefinition/DetectedIssue",
        ),
        ExtensionDef(
            CODE_NOTE,
            "CodeNote",
            "Code note",
            "string",
            "What the content notes about a condition's code: a header and the codes under it, a change between code "
            "versions, or how the code maps to the condition the source names (B27.0- are mononucleosis codes: no "
            "code is confirmed for EBV reactivation without mononucleosis).",
            ("Coding",),
        ),
        ExtensionDef(
            VERIFICATION,
            "Verification",
            "Verification status",
            "Coding",
            "How the fact was checked: primary (seen in an official or primary record), secondary (seen only in "
            "secondary sources; re-check before relying on it), article-claim (stated by an article and served as "
            "its claim).",
            ("Element",),
            binding="verification",
        ),
    )
}


def canonical(base: str, kind: str, ident: str) -> str:
    """The canonical URL of our ``kind`` resource ``ident`` under the configured canonical ``base``."""
    return f"{base}/{kind}/{ident}"


def extension_url(base: str, ident: str) -> str:
    return canonical(base, "StructureDefinition", ident)


def _context(expression: str) -> dict[str, str]:
    return {"type": "element", "expression": expression}


def structure_definition(base: str, ext: ExtensionDef, date: str) -> dict[str, Any]:
    """The StructureDefinition (a simple extension, differential only) of ``ext``."""
    url = extension_url(base, ext.id)
    value_type: dict[str, Any] = {"code": ext.value_type}
    if ext.target_profile:
        value_type["targetProfile"] = [ext.target_profile]
    value: dict[str, Any] = {
        "id": "Extension.value[x]",
        "path": "Extension.value[x]",
        "min": 1,
        "type": [value_type],
    }
    if ext.binding:
        value["binding"] = {
            "strength": "required",
            "description": f"Codes from {canonical(base, 'CodeSystem', ext.binding)}",
            "valueSet": canonical(base, "ValueSet", ext.binding),
        }
    sd = {
        "resourceType": "StructureDefinition",
        "id": ext.id,
        "url": url,
        "version": "1",
        "name": ext.name,
        "title": ext.title,
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": PUBLISHER,
        "description": ext.description,
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [_context(c) for c in ext.contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Extension",
                    "path": "Extension",
                    "short": ext.title,
                    "definition": ext.description,
                    "min": 0,
                    "max": "*",
                },
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                value,
            ]
        },
    }
    return disclaimed(sd, ext.title)
