"""Indications: drug x condition x regimen, with evidence, studies and sources embedded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.evidence import DEFINITIONS
from app.errors import NotFoundError
from app.models import Condition, Drug, Indication, IndicationSource, Regimen, Study
from app.services import conditions as condition_service
from app.services import regimens as regimen_service
from app.services.embeds import bookkeeping, group_by, source_citation, sources_by_id
from app.services.evidence_order import evidence_rank
from app.services.listing import Page, PageRequest, SortKey, paginate
from app.services.record_warnings import record_warnings

SORTABLE = {
    "slug": SortKey(col(Indication.slug)),
    "status": SortKey(col(Indication.status)),
    "evidence_level": SortKey(evidence_rank(col(Indication.evidence_level)), "int"),
    "updated_at": SortKey(col(Indication.updated_at), "datetime"),
}

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


def list_indications(
    session: Session,
    *,
    page: PageRequest,
    status: str | None = None,
    evidence_level: str | None = None,
    category: str | None = None,
    regimen: str | None = None,
    condition: str | None = None,
    code: str | None = None,
    code_system: str | None = None,
    claim_basis: str | None = None,
) -> Page[dict[str, Any]]:
    statement = select(Indication)
    if status:
        statement = statement.where(col(Indication.status) == status)
    if evidence_level:
        statement = statement.where(col(Indication.evidence_level) == evidence_level)
    if claim_basis:
        statement = statement.where(col(Indication.claim_basis) == claim_basis)
    if regimen:
        statement = statement.where(
            col(Indication.regimen_id).in_(select(col(Regimen.id)).where(col(Regimen.slug) == regimen))
        )
    if category or condition:
        sub = select(col(Condition.id))
        if category:
            sub = sub.where(col(Condition.category) == category)
        if condition:
            sub = sub.where(col(Condition.slug) == condition)
        statement = statement.where(col(Indication.condition_id).in_(sub))
    if code:
        statement = statement.where(
            col(Indication.condition_id).in_(condition_service.condition_ids_for_code(code, code_system))
        )
    result = paginate(session, statement, col(Indication.slug), SORTABLE, page)
    return Page(represent_many(session, result.items), result.total, result.limit, result.next_cursor)


def get_indication(session: Session, *, slug: str) -> dict[str, Any]:
    indication = session.scalars(select(Indication).where(col(Indication.slug) == slug)).first()
    if indication is None:
        raise NotFoundError("indication", slug)
    return represent_many(session, [indication])[0]


def indications_for_regimens(session: Session, regimen_slugs: Sequence[str]) -> list[dict[str, Any]]:
    statement = (
        select(Indication)
        .join(Regimen, col(Regimen.id) == col(Indication.regimen_id))
        .where(col(Regimen.slug).in_(list(regimen_slugs)))
        .order_by(col(Indication.slug))
    )
    return represent_many(session, session.scalars(statement).all())
