"""Indications: drug x condition x regimen, with evidence, studies and sources embedded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.evidence import DEFINITIONS
from app.models import Condition, Drug, Indication, IndicationSource, Regimen, Study
from app.services import conditions as condition_service
from app.services import regimens as regimen_service
from app.services.embeds import bookkeeping, group_by, source_citation, sources_by_id
from app.services.record_warnings import record_warnings

_LEVEL_TITLES = {d.level.value: d.title for d in DEFINITIONS}


def represent_many(session: Session, indications: Sequence[Indication]) -> list[dict[str, Any]]:
    """Full representations in a fixed number of queries (7), whatever the number of indications."""
    ids = [i.id for i in indications]
    drugs = {
        d.id: d for d in session.scalars(select(Drug).where(col(Drug.id).in_({i.drug_id for i in indications}))).all()
    }
    conditions = {
        c.id: c
        for c in session.scalars(
            select(Condition).where(col(Condition.id).in_({i.condition_id for i in indications}))
        ).all()
    }
    codes = condition_service.codes_for(session, [c for c in conditions if c is not None])
    regimens = {
        r.id: r
        for r in session.scalars(select(Regimen).where(col(Regimen.id).in_({i.regimen_id for i in indications}))).all()
    }
    links = group_by(
        session.scalars(
            select(IndicationSource)
            .where(col(IndicationSource.indication_id).in_(ids))
            .order_by(col(IndicationSource.ordinal))
        ).all(),
        "indication_id",
    )
    studies = group_by(
        session.scalars(select(Study).where(col(Study.indication_id).in_(ids)).order_by(col(Study.ordinal))).all(),
        "indication_id",
    )
    source_ids = [x.source_id for g in links.values() for x in g] + [s.source_id for g in studies.values() for s in g]
    sources = sources_by_id(session, source_ids)
    out = []
    for i in indications:
        drug, condition, regimen = drugs[i.drug_id], conditions[i.condition_id], regimens[i.regimen_id]
        out.append(
            {
                "slug": i.slug,
                "drug": {"slug": drug.slug, "name": drug.name},
                "condition": condition_service.summary(condition, codes.get(condition.id or 0, [])),
                "regimen": regimen_service.summary(regimen),
                "status": i.status,
                "evidence": {
                    "level": i.evidence_level,
                    "level_title": _LEVEL_TITLES.get(i.evidence_level),
                    "direction": i.evidence_direction,
                    "claim_basis": i.claim_basis,
                },
                "source_quote": i.source_quote,
                "studies": [
                    {
                        "slug": s.slug,
                        "design": s.design,
                        "participants": s.participants,
                        "dose": s.dose,
                        "result": s.result,
                        "outcome": s.outcome,
                        "source": source_citation(sources[s.source_id]),
                    }
                    for s in studies.get(i.id or 0, [])
                ],
                "sources": [
                    {**source_citation(sources[x.source_id]), "role": x.role} for x in links.get(i.id or 0, [])
                ],
                "warnings": record_warnings(session, i.drug_id),
                "clinical_summary": i.clinical_summary,
                "plain_summary": i.plain_summary,
                **bookkeeping(i),
            }
        )
    return out
