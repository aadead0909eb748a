"""Pure functions: the services' dicts (``app.services.*`` representations) -> FHIR R4 dicts.

Design (see also the CapabilityStatement's documentation):

* One MedicationKnowledge per drug (id = drug slug) and one per regimen (id = regimen slug), linked both
  ways with ``relatedMedicationKnowledge``. The drug resource carries everything (every regimen's
  guidelines, each tagged with the ``regimen`` extension); a regimen resource carries only its own.
* ``administrationGuidelines`` come in two kinds. A *dosing guideline* per source's dose range: one
  Dosage with ``doseAndRate.doseRange`` in UCUM, attributed to the one source that states it
  (``source-citation``) and typed ``dose-range`` or ``reference-dose-range``. An *indication guideline* per
  indication: ``indicationCodeableConcept`` (ICD-10-CM, SNOMED CT), ``evidence-level``, ``off-label`` and
  the indication's sources. The sources state ranges per regimen, not per condition, so a dosing guideline
  has no indication and an indication guideline no dosage: both sit in the same regimen resource.
* A range the sources state per administration gets ``timing.repeat`` (once per period). A range stated as
  a total per period gets no timing (a Timing would claim one administration per period); its period is
  in ``maxDosePerPeriod`` (the upper bound, or the cap) and in the Dosage text.
* Targets are ``medicineClassification`` (type ``target``, codes from the ``target`` CodeSystem) beside
  the WHO ATC class; mechanisms are ``drugCharacteristic`` (type ``mechanism``, valueString) with their
  evidence level and sources.
* The label contraindications are contained DetectedIssue resources referenced from ``contraindication``
  (R4 types that element as Reference(DetectedIssue)); the label warnings that are not contraindications are
  contained DetectedIssues referenced from the ``label-warning`` extension.
* The disclaimer and the clinical summary are the narrative (``text``, status ``additional``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.integrations.fhir.extensions import (
    CODE_NOTE,
    EVIDENCE_LEVEL,
    LABEL_WARNING,
    OFF_LABEL,
    REGIMEN,
    SOURCE_CITATION,
    VERIFICATION,
    extension_url,
    narrative,
)
from app.integrations.fhir.terminology import ATC, RXNORM, UCUM, system_url
from app.services.record_warnings import build_warnings

RESOURCE = "MedicationKnowledge"
UNIT_DISPLAY = {"mg": "mg", "ug": "µg", "mg/kg": "mg/kg"}
PERIOD_DISPLAY = {"d": "day", "wk": "week", "mo": "month"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def term(base: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [coding(system_url(base, "term"), code, display)], "text": display}


def ext(base: str, ident: str, value_key: str, value: Any) -> dict[str, Any]:
    return {"url": extension_url(base, ident), value_key: value}


def verification_ext(base: str, status: str | None) -> list[dict[str, Any]]:
    if not status:
        return []
    return [ext(base, VERIFICATION, "valueCoding", coding(system_url(base, "verification"), status))]


def citation_text(source: dict[str, Any], role: str | None = None) -> str:
    parts = [p for p in (source.get("authors"), source.get("title"), source.get("journal")) if p]
    text = ". ".join(str(p).rstrip(".") for p in parts)
    if source.get("year"):
        text += f" ({source['year']})"
    text += "."
    if role:
        text += f" Role: {role}."
    return text


def citation_ext(base: str, source: dict[str, Any], role: str | None = None) -> dict[str, Any]:
    artifact: dict[str, Any] = {
        "type": "citation",
        "label": source["slug"],
        "display": source["title"],
        "citation": citation_text(source, role),
    }
    if source.get("url"):
        artifact["url"] = source["url"]
    extensions = verification_ext(base, source.get("verification"))
    if extensions:
        artifact = {"extension": extensions, **artifact}
    return ext(base, SOURCE_CITATION, "valueRelatedArtifact", artifact)


def evidence_ext(base: str, level: str, title: str | None = None) -> dict[str, Any]:
    return ext(base, EVIDENCE_LEVEL, "valueCoding", coding(system_url(base, "evidence-level"), level, title))


def regimen_ref(regimen: dict[str, Any]) -> dict[str, Any]:
    return {"reference": f"{RESOURCE}/{regimen['slug']}", "display": regimen["name"]}


def regimen_ext(base: str, regimen: dict[str, Any]) -> dict[str, Any]:
    return ext(base, REGIMEN, "valueReference", regimen_ref(regimen))


def latest(*stamps: str | None) -> str | None:
    values = [datetime.fromisoformat(s) for s in stamps if s]
    return max(values).isoformat() if values else None


# --- codes --------------------------------------------------------------------------------------------


def rxnorm_codings(base: str, drug: dict[str, Any], *, ingredient_only: bool) -> list[dict[str, Any]]:
    """The drug's RxNorm identifiers as Codings; ``ingredient_only`` keeps the one the content marks as
    the ingredient (its note names it so), for regimen resources (a product code such as a 50 mg tablet
    would be wrong for a low-dose regimen)."""
    out = []
    for ident in drug["identifiers"]:
        if ident["system"] != "rxnorm":
            continue
        if ingredient_only and "ingredient" not in (ident.get("note") or "").lower():
            continue
        out.append(_with_status(base, coding(RXNORM, str(ident["value"])), ident))
    return out


def _with_status(base: str, item: dict[str, Any], fact: dict[str, Any]) -> dict[str, Any]:
    """A Coding with its fact's status (primary, secondary) as the verification extension, first."""
    extensions = verification_ext(base, fact.get("verification"))
    return {"extension": extensions, **item} if extensions else item


def condition_concept(base: str, condition: dict[str, Any]) -> dict[str, Any]:
    codings = []
    for c in condition["codes"]:
        if not c.get("system_uri"):
            continue
        item = _with_status(base, coding(c["system_uri"], c["code"], c.get("display")), c)
        if c.get("version_note"):  # the code's caveat goes with it (B27.0 is no code for EBV reactivation)
            item = {
                **item,
                "extension": [*item.get("extension", []), ext(base, CODE_NOTE, "valueString", c["version_note"])],
            }
        codings.append(item)
    out: dict[str, Any] = {"coding": codings} if codings else {}
    out["text"] = condition["name"]
    return out


# --- dosing -------------------------------------------------------------------------------------------


def quantity(value: float | int, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": UNIT_DISPLAY.get(unit, unit), "system": UCUM, "code": unit}


def duration(value: float | int, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": PERIOD_DISPLAY.get(unit, unit), "system": UCUM, "code": unit}


def dose_range(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r["min"] is not None:
        out["low"] = quantity(r["min"], r["unit"])
    if r["max"] is not None:
        out["high"] = quantity(r["max"], r["unit"])
    return out


def dosage_text(r: dict[str, Any]) -> str:
    text = f"{r['label']}: {r['display']}"
    if r["per"] == "period":
        text += " (amount per period)"
    if r["min"] is not None and not r["min_inclusive"]:
        text += "; lower bound excluded"
    if r["max"] is not None and not r["max_inclusive"]:
        text += "; upper bound excluded"
    text += "."
    if r["is_reference"] and r.get("reference_reason"):
        text += f" Reference range: {r['reference_reason']}"
    if r.get("quote"):
        text += f' Source: "{r["quote"]}".'
    if r.get("note"):
        text += f" Note: {r['note']}"
    return text


def dosage(r: dict[str, Any], route: str) -> dict[str, Any]:
    period = r["period"]
    out: dict[str, Any] = {"text": dosage_text(r)}
    if r["per"] == "administration":
        out["timing"] = {"repeat": {"frequency": 1, "period": period["value"], "periodUnit": period["unit"]}}
    out["route"] = {"text": route}
    out["doseAndRate"] = [
        {
            "type": {"text": "amount per period" if r["per"] == "period" else "amount per administration"},
            "doseRange": dose_range(r),
        }
    ]
    per_period = {"denominator": duration(period["value"], period["unit"])}
    cap = r.get("cap")
    if cap is not None:
        if r["per"] != "period":  # administration, or administration-only (no frequency stated)
            out["maxDosePerAdministration"] = quantity(cap["value"], cap["unit"])
        else:
            out["maxDosePerPeriod"] = {"numerator": quantity(cap["value"], cap["unit"]), **per_period}
    elif r["per"] == "period" and r["max"] is not None and r["unit"] in ("mg", "ug"):
        out["maxDosePerPeriod"] = {"numerator": quantity(r["max"], r["unit"]), **per_period}
    return out


def population_characteristics(regimen: dict[str, Any]) -> list[dict[str, Any]]:
    population = regimen.get("population") or "any"
    if population == "any":
        return []
    return [{"characteristicCodeableConcept": {"text": "population"}, "value": [population]}]


def dosing_guideline(base: str, regimen: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    kind = (
        term(base, "reference-dose-range", "Reference dose range")
        if r["is_reference"]
        else term(base, "dose-range", "Dose range stated by a source")
    )
    out: dict[str, Any] = {
        "extension": [
            citation_ext(base, r["source"]),
            *verification_ext(base, r.get("verification")),
            regimen_ext(base, regimen),
        ],
        "dosage": [{"type": kind, "dosage": [dosage(r, regimen["route"])]}],
    }
    characteristics = population_characteristics(regimen)
    if characteristics:
        out["patientCharacteristics"] = characteristics
    return out


def indication_guideline(base: str, indication: dict[str, Any]) -> dict[str, Any]:
    evidence = indication["evidence"]
    extensions = [
        ext(base, OFF_LABEL, "valueBoolean", indication["status"] != "approved"),
        evidence_ext(base, evidence["level"], evidence.get("level_title")),
        regimen_ext(base, indication["regimen"]),
        *(citation_ext(base, s, s.get("role")) for s in indication["sources"]),
    ]
    return {"extension": extensions, "indicationCodeableConcept": condition_concept(base, indication["condition"])}


def guidelines(base: str, regimen: dict[str, Any], indications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    own = [i for i in indications if i["regimen"]["slug"] == regimen["slug"]]
    return [dosing_guideline(base, regimen, r) for r in regimen["dose_ranges"]] + [
        indication_guideline(base, i) for i in own
    ]


# --- classification, mechanisms, contraindications ----------------------------------------------------


def classifications(base: str, drug: dict[str, Any], mechanisms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    atc = [_with_status(base, coding(ATC, str(i["value"])), i) for i in drug["identifiers"] if i["system"] == "atc"]
    if atc:
        out.append(
            {"type": term(base, "atc", "WHO ATC classification"), "classification": [{"coding": [c]} for c in atc]}
        )
    targets: dict[str, dict[str, Any]] = {}
    for m in mechanisms:
        targets.setdefault(m["target"]["slug"], m["target"])
    if targets:
        out.append(
            {
                "type": term(base, "target", "Molecular target"),
                "classification": [
                    {
                        "coding": [coding(system_url(base, "target"), t["slug"], t["name"])],
                        "text": f"{t['name']} ({t['gene_symbol']})" if t.get("gene_symbol") else t["name"],
                    }
                    for t in sorted(targets.values(), key=lambda t: t["slug"])
                ],
            }
        )
    return out


def mechanism_text(m: dict[str, Any]) -> str:
    text = f"{m['name']}: {m['action']} at the {m['target']['name']} (dose context: {m['dose_context']}). {m['effect']}"
    if m.get("dose_dependence"):
        text += f" {m['dose_dependence']}"
    if m.get("attribution") == "article-claim":
        text += " (A source's claim; no checked study.)"
    return text


def characteristic(base: str, m: dict[str, Any]) -> dict[str, Any]:
    extensions = [evidence_ext(base, m["evidence_level"])]
    if m.get("regimen"):
        extensions.append(regimen_ext(base, m["regimen"]))
    extensions += [citation_ext(base, s) for s in m["sources"]]
    return {
        "extension": extensions,
        "type": term(base, "mechanism", "Mechanism of action"),
        "valueString": mechanism_text(m),
    }


def contained_issues(base: str, drug: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, c in enumerate(drug["contraindications"], start=1):
        issue: dict[str, Any] = {
            "resourceType": "DetectedIssue",
            "id": f"contraindication-{n}",
            "extension": [citation_ext(base, c["source"]), *verification_ext(base, c.get("verification"))],
            "status": "final",
            "code": term(base, "label-contraindication", "Label contraindication"),
            "detail": c["text"] + (f" Note: {c['note']}" if c.get("note") else ""),
        }
        if c["source"].get("url"):
            issue["reference"] = c["source"]["url"]
        out.append(issue)
    return out


def warning_issues(base: str, drug: dict[str, Any]) -> list[dict[str, Any]]:
    """The label warnings that are not contraindications (the remaining hepatotoxicity warning), from the
    one function that builds every record's warnings (app.services.record_warnings), as DetectedIssues."""
    out = []
    statements = [s for w in build_warnings(drug) for s in w["statements"] if s["type"] == "label-change"]
    for n, s in enumerate(statements, start=1):
        extension = [citation_ext(base, s["source"])] if s.get("source") else []
        when = ", ".join(v for v in (s.get("product"), s.get("date")) if v)
        detail = s["text"] + (f" ({when})" if when else "")
        issue: dict[str, Any] = {
            "resourceType": "DetectedIssue",
            "id": f"label-warning-{n}",
            "extension": [*extension, *verification_ext(base, s.get("verification"))],
            "status": "final",
            "code": term(base, "label-warning", "Label warning"),
            "detail": detail,
        }
        out.append(_clean(issue))
    return out


# --- resources ----------------------------------------------------------------------------------------


def _resource(
    base: str,
    *,
    ident: str,
    last_updated: str | None,
    summary: str,
    disclaimer: str,
    title: str,
    drug: dict[str, Any],
    extension: list[dict[str, Any]],
    code: dict[str, Any],
    body: dict[str, Any],
) -> dict[str, Any]:
    contraindications, warnings = contained_issues(base, drug), warning_issues(base, drug)
    issues = contraindications + warnings
    out: dict[str, Any] = {"resourceType": RESOURCE, "id": ident}
    if last_updated:
        out["meta"] = {"lastUpdated": last_updated}
    out["text"] = narrative(title, summary, disclaimer)
    if issues:
        out["contained"] = issues
    extension = [
        *extension,
        *(
            ext(base, LABEL_WARNING, "valueReference", {"reference": f"#{w['id']}", "display": w["detail"]})
            for w in warnings
        ),
    ]
    if extension:
        out["extension"] = extension
    out["code"] = code
    out["status"] = "active"
    out.update(body)
    if contraindications:
        out["contraindication"] = [{"reference": f"#{i['id']}", "display": i["detail"]} for i in contraindications]
    return out


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    """FHIR forbids empty arrays and objects: drop them (keeping the element order)."""
    return {k: v for k, v in body.items() if v not in ([], {}, None, "")}


def regimen_mechanisms(regimen_slug: str, mechanisms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mechanisms documented for this regimen, plus those that hold at any dose."""
    return [
        m
        for m in mechanisms
        if (m["regimen"] and m["regimen"]["slug"] == regimen_slug) or (not m["regimen"] and m["dose_context"] == "any")
    ]


def drug_resource(
    base: str,
    drug: dict[str, Any],
    regimens: list[dict[str, Any]],
    mechanisms: list[dict[str, Any]],
    indications: list[dict[str, Any]],
    disclaimer: str,
) -> dict[str, Any]:
    own = [r for r in regimens if r["drug"]["slug"] == drug["slug"]]
    names = {r["slug"] for r in own}
    own_indications = [i for i in indications if i["regimen"]["slug"] in names]
    stamps = [drug["updated_at"], *(r["updated_at"] for r in own), *(i["updated_at"] for i in own_indications)]
    codings = rxnorm_codings(base, drug, ingredient_only=False)
    body = _clean(
        {
            "synonym": drug["synonyms"],
            "relatedMedicationKnowledge": [
                {"type": term(base, "regimen", "Dosing regimen"), "reference": [regimen_ref(r) for r in own]}
            ]
            if own
            else [],
            "intendedRoute": [{"text": route} for route in sorted({r["route"] for r in own})],
            "administrationGuidelines": [g for r in own for g in guidelines(base, r, own_indications)],
            "medicineClassification": classifications(base, drug, mechanisms),
            "drugCharacteristic": [characteristic(base, m) for m in mechanisms],
        }
    )
    return _resource(
        base,
        ident=drug["slug"],
        last_updated=latest(*stamps, *(m["updated_at"] for m in mechanisms)),
        summary=drug["clinical_summary"],
        disclaimer=disclaimer,
        title=drug["name"],
        drug=drug,
        extension=[],
        code={"coding": codings, "text": drug["name"]} if codings else {"text": drug["name"]},
        body=body,
    )


def regimen_resource(
    base: str,
    regimen: dict[str, Any],
    drug: dict[str, Any],
    mechanisms: list[dict[str, Any]],
    indications: list[dict[str, Any]],
    disclaimer: str,
) -> dict[str, Any]:
    own_mechanisms = regimen_mechanisms(regimen["slug"], mechanisms)
    own_indications = [i for i in indications if i["regimen"]["slug"] == regimen["slug"]]
    codings = rxnorm_codings(base, drug, ingredient_only=True)
    cited: dict[str, dict[str, Any]] = {s["slug"]: s for s in regimen["sources"]}
    extension = [ext(base, OFF_LABEL, "valueBoolean", regimen["approval_status"] != "approved")]
    extension += [citation_ext(base, s) for s in cited.values()]
    body = _clean(
        {
            "doseForm": {"text": regimen["form"]},
            "relatedMedicationKnowledge": [
                {
                    "type": term(base, "drug", "Drug"),
                    "reference": [{"reference": f"{RESOURCE}/{drug['slug']}", "display": drug["name"]}],
                }
            ],
            "intendedRoute": [{"text": regimen["route"]}],
            "administrationGuidelines": guidelines(base, regimen, own_indications),
            "medicineClassification": classifications(base, drug, own_mechanisms),
            "drugCharacteristic": [characteristic(base, m) for m in own_mechanisms],
        }
    )
    stamps = [regimen["updated_at"], drug["updated_at"], *(i["updated_at"] for i in own_indications)]
    return _resource(
        base,
        ident=regimen["slug"],
        last_updated=latest(*stamps, *(m["updated_at"] for m in own_mechanisms)),
        summary=regimen["clinical_summary"],
        disclaimer=disclaimer,
        title=f"{regimen['name']} ({regimen['approval_status']}). Frequency: {regimen['frequency']}."
        + (f" Timing: {regimen['timing']}" if regimen.get("timing") else ""),
        drug=drug,
        extension=extension,
        code={"coding": codings, "text": regimen["name"]} if codings else {"text": regimen["name"]},
        body=body,
    )


def all_resources(
    base: str,
    drugs: list[dict[str, Any]],
    regimens: list[dict[str, Any]],
    mechanisms: list[dict[str, Any]],
    indications: list[dict[str, Any]],
    disclaimer: str,
) -> dict[str, dict[str, Any]]:
    """Every MedicationKnowledge, by id (drug slugs and regimen slugs; a clash is a content error)."""
    out: dict[str, dict[str, Any]] = {}
    by_slug = {d["slug"]: d for d in drugs}
    for d in drugs:
        drug_mechanisms = [m for m in mechanisms if m.get("drug", {}).get("slug", d["slug"]) == d["slug"]]
        out[d["slug"]] = drug_resource(base, d, regimens, drug_mechanisms, indications, disclaimer)
    for r in regimens:
        if r["slug"] in out:
            raise ValueError(f"regimen slug {r['slug']!r} clashes with another MedicationKnowledge id")
        drug = by_slug[r["drug"]["slug"]]
        out[r["slug"]] = regimen_resource(base, r, drug, mechanisms, indications, disclaimer)
    return dict(sorted(out.items()))
