"""Export the store back to the dataset's form (the inverse of the loader)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.content.schema import Dataset
from app.models import (
    Approval,
    Condition,
    ConditionCode,
    DoseRange,
    Drug,
    Indication,
    IndicationSource,
    Mechanism,
    MechanismSource,
    Regimen,
    Source,
    Study,
    Target,
)


def _by_id(session: Session, model: Any) -> dict[int, Any]:
    return {row.id: row for row in session.scalars(select(model).order_by(model.id)).all()}


def _grouped(session: Session, model: Any, key: str) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in session.scalars(select(model).order_by(getattr(model, key), model.ordinal)).all():
        groups[getattr(row, key)].append(row)
    return groups


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def export_dataset(session: Session) -> Dataset:
    """Everything in the store as a validated Dataset, records in insertion order."""
    sources = _by_id(session, Source)
    drugs = _by_id(session, Drug)
    targets = _by_id(session, Target)
    regimens = _by_id(session, Regimen)
    conditions = _by_id(session, Condition)
    slug = {
        "source": {i: r.slug for i, r in sources.items()},
        "drug": {i: r.slug for i, r in drugs.items()},
        "target": {i: r.slug for i, r in targets.items()},
        "regimen": {i: r.slug for i, r in regimens.items()},
        "condition": {i: r.slug for i, r in conditions.items()},
    }
    ranges = _grouped(session, DoseRange, "regimen_id")
    approvals = _grouped(session, Approval, "drug_id")
    mech_sources = _grouped(session, MechanismSource, "mechanism_id")
    codes = _grouped(session, ConditionCode, "condition_id")
    ind_sources = _grouped(session, IndicationSource, "indication_id")
    studies = _grouped(session, Study, "indication_id")

    def summaries(r: Any) -> dict[str, str]:
        return {"clinical_summary": r.clinical_summary, "plain_summary": r.plain_summary}

    raw: dict[str, list[dict[str, Any]]] = {
        "sources": [
            _clean(
                {
                    "slug": s.slug,
                    "kind": s.kind,
                    "title": s.title,
                    "authors": s.authors,
                    "journal": s.journal,
                    "year": s.year,
                    "citation": s.citation,
                    "url": s.url,
                    "identifiers": s.identifiers,
                    "verification": s.verification,
                    "note": s.note,
                }
            )
            for s in sources.values()
        ],
        "drugs": [
            {
                "slug": d.slug,
                "name": d.name,
                "synonyms": d.synonyms,
                "identifiers": d.identifiers,
                "salts": d.salts,
                "contraindications": d.contraindications,
                "approvals": [
                    _clean(
                        {
                            "slug": a.slug,
                            "date": a.date,
                            "date_note": a.date_note,
                            "event": a.event,
                            "product": a.product,
                            "application": a.application,
                            "regimen": slug["regimen"].get(a.regimen_id) if a.regimen_id else None,
                            "source": slug["source"].get(a.source_id) if a.source_id else None,
                            "verification": a.verification,
                        }
                    )
                    for a in approvals[i]
                ],
                **summaries(d),
            }
            for i, d in drugs.items()
        ],
        "targets": [
            _clean(
                {
                    "slug": t.slug,
                    "name": t.name,
                    "gene_symbol": t.gene_symbol,
                    "uniprot": t.uniprot,
                    "family": t.family,
                    "synonyms": t.synonyms,
                    "identifiers": t.identifiers,
                    **summaries(t),
                }
            )
            for t in targets.values()
        ],
        "regimens": [
            _clean(
                {
                    "slug": r.slug,
                    "drug": slug["drug"][r.drug_id],
                    "name": r.name,
                    "band": r.band,
                    "route": r.route,
                    "form": r.form,
                    "frequency": r.frequency,
                    "timing": r.timing,
                    "approval_status": r.approval_status,
                    "population": r.population,
                    "dose_ranges": [
                        _clean(
                            {
                                "slug": x.slug,
                                "label": x.label,
                                "source": slug["source"][x.source_id],
                                "min": x.min_value,
                                "max": x.max_value,
                                "min_inclusive": x.min_inclusive,
                                "max_inclusive": x.max_inclusive,
                                "unit": x.unit,
                                "period_value": x.period_value,
                                "period_unit": x.period_unit,
                                "per": x.per,
                                "cap": x.cap_value,
                                "cap_unit": x.cap_unit,
                                "is_reference": x.is_reference,
                                "reference_reason": x.reference_reason,
                                "quote": x.quote,
                                "verification": x.verification,
                                "note": x.note,
                            }
                        )
                        for x in ranges[i]
                    ],
                    **summaries(r),
                }
            )
            for i, r in regimens.items()
        ],
        "mechanisms": [
            _clean(
                {
                    "slug": m.slug,
                    "drug": slug["drug"][m.drug_id],
                    "target": slug["target"][m.target_id],
                    "regimen": slug["regimen"].get(m.regimen_id) if m.regimen_id else None,
                    "name": m.name,
                    "dose_context": m.dose_context,
                    "action": m.action,
                    "effect": m.effect,
                    "dose_dependence": m.dose_dependence,
                    "evidence_level": m.evidence_level,
                    "attribution": m.attribution,
                    "sources": [
                        _clean({"source": slug["source"][c.source_id], "quote": c.quote}) for c in mech_sources[m.id]
                    ],
                    **summaries(m),
                }
            )
            for m in _by_id(session, Mechanism).values()
        ],
        "conditions": [
            {
                "slug": c.slug,
                "name": c.name,
                "category": c.category,
                "synonyms": c.synonyms,
                "codes": [
                    _clean(
                        {
                            "system": k.system,
                            "code": k.code,
                            "display": k.display,
                            "kind": k.code_kind,
                            "version_note": k.version_note,
                            "verification": k.verification,
                        }
                    )
                    for k in codes[i]
                ],
                **summaries(c),
            }
            for i, c in conditions.items()
        ],
        "indications": [
            _clean(
                {
                    "slug": n.slug,
                    "drug": slug["drug"][n.drug_id],
                    "condition": slug["condition"][n.condition_id],
                    "regimen": slug["regimen"][n.regimen_id],
                    "status": n.status,
                    "evidence_level": n.evidence_level,
                    "evidence_direction": n.evidence_direction,
                    "claim_basis": n.claim_basis,
                    "source_quote": n.source_quote,
                    "sources": [{"source": slug["source"][s.source_id], "role": s.role} for s in ind_sources[n.id]],
                    "studies": [
                        _clean(
                            {
                                "slug": s.slug,
                                "source": slug["source"][s.source_id],
                                "design": s.design,
                                "participants": s.participants,
                                "dose": s.dose,
                                "result": s.result,
                                "outcome": s.outcome,
                            }
                        )
                        for s in studies[n.id]
                    ],
                    **summaries(n),
                }
            )
            for n in _by_id(session, Indication).values()
        ],
    }
    return Dataset.model_validate(raw)
