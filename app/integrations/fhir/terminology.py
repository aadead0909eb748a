"""The CodeSystems this facade defines (``{canonical}/CodeSystem/{id}``), and for each one the ValueSet of
all its codes (``{canonical}/ValueSet/{id}``), which the required bindings of our extensions name.

``evidence-level`` and ``verification`` come from the domain vocabularies; ``target`` from the targets
held by the services; ``term`` names the kinds of classification, characteristic, relation and dosage
the MedicationKnowledge resources use. External codes (RxNorm, ATC, ICD-10-CM, SNOMED CT, UCUM) keep
their own systems.
"""

from __future__ import annotations

from typing import Any

from app.domain.evidence import DEFINITIONS
from app.domain.vocabulary import CODE_SYSTEM_URIS
from app.integrations.fhir.extensions import FHIR_PATH, PUBLISHER, canonical, disclaimed

RXNORM = CODE_SYSTEM_URIS["rxnorm"]
ATC = CODE_SYSTEM_URIS["atc"]
UCUM = CODE_SYSTEM_URIS["ucum"]
SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

VERIFICATION_CONCEPTS: tuple[tuple[str, str, str], ...] = (
    ("primary", "Primary", "Seen in an official or primary record (FDA, NLM, NCATS, HL7, Cochrane, the journal)."),
    ("secondary", "Secondary", "Seen only in secondary sources (coding sites, data tables); re-check before relying."),
    ("article-claim", "Article claim", "Stated by an article (the seed article) and served only as its claim."),
)

TERM_CONCEPTS: tuple[tuple[str, str, str], ...] = (
    ("atc", "WHO ATC classification", "medicineClassification.type of the WHO ATC class."),
    ("target", "Molecular target", "medicineClassification.type: the receptors the drug acts at (target codes)."),
    ("mechanism", "Mechanism of action", "drugCharacteristic.type: what the drug does at a target, by dose."),
    ("regimen", "Dosing regimen", "A dosing regimen of the drug (relation type, dosage type)."),
    ("drug", "Drug", "The drug as a whole, across its regimens (relation type)."),
    ("dose-range", "Dose range stated by a source", "A dosage giving one source's dose range for the regimen."),
    (
        "reference-dose-range",
        "Reference dose range",
        "The dose range chosen as the regimen's reference, for a stated reason; other sources' ranges stand beside it.",
    ),
    ("label-contraindication", "Label contraindication", "A contraindication stated by a drug label."),
    ("label-warning", "Label warning", "A warning stated by a drug label, e.g. the remaining hepatotoxicity warning."),
)


def system_url(base: str, ident: str) -> str:
    return canonical(base, "CodeSystem", ident)


def _code_system(
    base: str, ident: str, title: str, description: str, concepts: list[dict[str, Any]], date: str
) -> dict[str, Any]:
    resource = {
        "resourceType": "CodeSystem",
        "id": ident,
        "url": system_url(base, ident),
        "version": "1",
        "name": "".join(part.capitalize() for part in ident.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": PUBLISHER,
        "description": description,
        "caseSensitive": True,
        "valueSet": canonical(base, "ValueSet", ident),
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    return disclaimed(resource, title)


def _concepts(rows: tuple[tuple[str, str, str], ...] | list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"code": c, "display": d, "definition": text} for c, d, text in rows]


def _identifier_text(target: dict[str, Any], system: str, value: Any) -> str:
    """``P35372 (secondary)``: an identifier with the status the target's record gives it (or not recorded)."""
    if not value:
        return "not recorded"
    status = next((i.get("verification") for i in target.get("identifiers") or [] if i.get("value") == value), None)
    return f"{value} ({status})" if status else str(value)


def code_systems(base: str, targets: list[dict[str, Any]], date: str) -> dict[str, dict[str, Any]]:
    """Every CodeSystem we publish, by id."""
    evidence = [(d.level.value, d.title, d.definition) for d in DEFINITIONS]
    target_rows = [
        (
            t["slug"],
            t["name"],
            f"{t['name']} (gene {_identifier_text(t, 'hgnc', t.get('gene_symbol'))}, "
            f"UniProt {_identifier_text(t, 'uniprot', t.get('uniprot'))}, family {t['family']}).",
        )
        for t in targets
    ]
    systems = (
        _code_system(
            base,
            "evidence-level",
            "ldn-kb evidence levels",
            "How strong the best checked evidence is, by design; rank 1 (regulatory approval) is strongest.",
            _concepts(evidence),
            date,
        ),
        _code_system(
            base,
            "verification",
            "ldn-kb verification status",
            "How a fact was checked.",
            _concepts(VERIFICATION_CONCEPTS),
            date,
        ),
        _code_system(
            base,
            "term",
            "ldn-kb MedicationKnowledge terms",
            f"Kinds of classification, characteristic, relation and dosage used by {FHIR_PATH}/MedicationKnowledge.",
            _concepts(TERM_CONCEPTS),
            date,
        ),
        _code_system(
            base,
            "target",
            "ldn-kb molecular targets",
            "The receptors at which the knowledge base documents an action of the drug (see /v1/targets).",
            _concepts(target_rows),
            date,
        ),
    )
    return {s["id"]: s for s in systems}


def value_set(base: str, system: dict[str, Any], date: str) -> dict[str, Any]:
    """The ValueSet of every code of our CodeSystem ``system`` (what a required binding to it allows)."""
    ident = system["id"]
    resource = {
        "resourceType": "ValueSet",
        "id": ident,
        "url": canonical(base, "ValueSet", ident),
        "version": system["version"],
        "name": f"{system['name']}Codes",
        "title": f"All codes of {system['title']}",
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": PUBLISHER,
        "description": f"Every code of the CodeSystem {system['url']}: {system['description']}",
        "immutable": False,
        "compose": {"include": [{"system": system["url"], "version": system["version"]}]},
    }
    return disclaimed(resource, resource["title"])


def value_sets(base: str, systems: dict[str, dict[str, Any]], date: str) -> dict[str, dict[str, Any]]:
    """Every ValueSet we publish, by id: one per CodeSystem, all its codes."""
    return {ident: value_set(base, system, date) for ident, system in systems.items()}
