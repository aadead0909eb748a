"""Knowledge by code: what we hold for a condition code (ICD-10-CM, SNOMED CT) or a drug code (RxNorm).

Used by the Infobutton responder; answered from the app's read model (no query), plain data out, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from app.domain.vocabulary import CODE_SYSTEM_LABELS
from app.readmodel.model import ReadModel
from app.services.conditions import matched_codes

ADULT_AGE_YEARS = Decimal(18)


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    kind: str  # indications | regimens | drugs
    slug: str
    title: str
    clinical_summary: str
    plain_summary: str
    updated_at: str | None
    population: str
    status: str | None
    evidence_level: str | None
    warnings: tuple[dict[str, Any], ...] = ()  # the record's label warnings (app.services.record_warnings)
    code_notes: tuple[str, ...] = ()
    """What the content notes about the code the request matched (``ICD-10-CM B27.0: these are mononucleosis
    codes …``): a mapping caveat is never dropped on the way to an EHR."""


def _indication_entry(item: dict[str, Any], code: str | None = None, system: str | None = None) -> KnowledgeEntry:
    regimen = item["regimen"]
    matched = matched_codes(item["condition"]["codes"], code, system) if code else []
    notes = tuple(
        f"{CODE_SYSTEM_LABELS.get(c['system'], c['system'])} {c['code']}: {c['version_note']}"
        for c in matched
        if c.get("version_note")
    )
    return KnowledgeEntry(
        code_notes=notes,
        kind="indications",
        slug=item["slug"],
        title=f"Naltrexone ({regimen['name']}) for {item['condition']['name']}: {item['status']}",
        clinical_summary=item["clinical_summary"],
        plain_summary=item["plain_summary"],
        updated_at=item["updated_at"],
        population=regimen.get("population", "any"),
        status=item["status"],
        evidence_level=item["evidence"]["level"],
        warnings=tuple(item.get("warnings", ())),
    )


def _regimen_entry(item: dict[str, Any]) -> KnowledgeEntry:
    return KnowledgeEntry(
        kind="regimens",
        slug=item["slug"],
        title=f"{item['name']} ({item['approval_status']})",
        clinical_summary=item["clinical_summary"],
        plain_summary=item["plain_summary"],
        updated_at=item["updated_at"],
        population=item.get("population", "any"),
        status=item["approval_status"],
        evidence_level=None,
        warnings=tuple(item.get("warnings", ())),
    )


def _fits_age(entry: KnowledgeEntry, age_years: Decimal | None) -> bool:
    if age_years is None or entry.population == "any":
        return True
    if entry.population == "children":
        return age_years < ADULT_AGE_YEARS
    return age_years >= ADULT_AGE_YEARS


DRUG_CODE_SYSTEMS: Final = ("rxnorm", "atc", "unii")
"""The drug record's code systems that have an OID (app/domain/vocabulary.py): a request in any of them finds
the drug's regimens (its salts' codes too: naltrexone hydrochloride's UNII)."""


def knowledge_for_code(
    model: ReadModel, *, code: str, system: str | None, age_years: Decimal | None = None
) -> list[KnowledgeEntry]:
    """Entries for a code: indications of the conditions it names (an ICD-10-CM code also matches its header
    categories, as the list filter ``code`` does), or the regimens of the drug it names (RxNorm, ATC, UNII), in
    slug order.

    An age excludes entries for another population (a children's regimen for an adult, and back).
    """
    entries: list[KnowledgeEntry] = []
    if system in (None, "icd-10-cm", "snomed-ct"):
        entries += [
            _indication_entry(i, code, system) for i in model.select("indications", code=code, code_system=system)
        ]
    if system is None or system in DRUG_CODE_SYSTEMS:
        systems = DRUG_CODE_SYSTEMS if system is None else (system,)
        wanted = code.upper()
        drugs = {
            d["slug"]
            for d in model.records("drugs")
            if any(
                i.get("system") in systems and str(i.get("value")).upper() == wanted
                for i in [*d["identifiers"], *(i for salt in d.get("salts") or [] for i in salt["identifiers"])]
            )
        }
        if drugs:
            entries += [_regimen_entry(r) for r in model.records("regimens") if r["drug"]["slug"] in drugs]
    return [e for e in entries if _fits_age(e, age_years)]
