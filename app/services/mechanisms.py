"""Mechanisms: drug x target x dose context, with evidence and sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFoundError
from app.models import Mechanism, MechanismSource, Regimen, Target
from app.services import regimens as regimen_service
from app.services import targets as target_service
from app.services.embeds import bookkeeping, group_by, source_citation, sources_by_id
from app.services.evidence_order import evidence_rank
from app.services.listing import Page, PageRequest, SortKey, paginate

SORTABLE = {
    "slug": SortKey(col(Mechanism.slug)),
    "name": SortKey(col(Mechanism.name)),
    "evidence_level": SortKey(evidence_rank(col(Mechanism.evidence_level)), "int"),
    "updated_at": SortKey(col(Mechanism.updated_at), "datetime"),
}


def represent_many(session: Session, mechanisms: Sequence[Mechanism]) -> list[dict[str, Any]]:
    """Five queries whatever the count: targets, regimens, links, sources (and the page itself)."""
    ids = [m.id for m in mechanisms]
    targets = {
        t.id: t
        for t in session.scalars(select(Target).where(col(Target.id).in_({m.target_id for m in mechanisms}))).all()
    }
    regimen_ids = {m.regimen_id for m in mechanisms if m.regimen_id is not None}
    regimens = {r.id: r for r in session.scalars(select(Regimen).where(col(Regimen.id).in_(regimen_ids))).all()}
    links = group_by(
        session.scalars(
            select(MechanismSource)
            .where(col(MechanismSource.mechanism_id).in_(ids))
            .order_by(col(MechanismSource.ordinal))
        ).all(),
        "mechanism_id",
    )
    sources = sources_by_id(session, (x.source_id for group in links.values() for x in group))
    out = []
    for m in mechanisms:
        regimen = regimens.get(m.regimen_id) if m.regimen_id else None
        out.append(
            {
                "slug": m.slug,
                "name": m.name,
                "target": target_service.summary(targets[m.target_id]),
                "regimen": regimen_service.summary(regimen) if regimen else None,
                "dose_context": m.dose_context,
                "action": m.action,
                "effect": m.effect,
                "dose_dependence": m.dose_dependence,
                "evidence_level": m.evidence_level,
                "attribution": m.attribution,
                "sources": [
                    {**source_citation(sources[x.source_id]), "quote": x.quote} for x in links.get(m.id or 0, [])
                ],
                "clinical_summary": m.clinical_summary,
                "plain_summary": m.plain_summary,
                **bookkeeping(m),
            }
        )
    return out


def list_mechanisms(
    session: Session,
    *,
    page: PageRequest,
    target: str | None = None,
    regimen: str | None = None,
    dose_context: str | None = None,
    evidence_level: str | None = None,
    attribution: str | None = None,
) -> Page[dict[str, Any]]:
    statement = select(Mechanism)
    if target:
        statement = statement.join(Target, col(Target.id) == col(Mechanism.target_id)).where(
            (col(Target.slug) == target) | (col(Target.gene_symbol) == target.upper())
        )
    if regimen:
        statement = statement.join(Regimen, col(Regimen.id) == col(Mechanism.regimen_id)).where(
            col(Regimen.slug) == regimen
        )
    if dose_context:
        statement = statement.where(col(Mechanism.dose_context) == dose_context)
    if evidence_level:
        statement = statement.where(col(Mechanism.evidence_level) == evidence_level)
    if attribution:
        statement = statement.where(col(Mechanism.attribution) == attribution)
    result = paginate(session, statement, col(Mechanism.slug), SORTABLE, page)
    return Page(represent_many(session, result.items), result.total, result.limit, result.next_cursor)


def get_mechanism(session: Session, *, slug: str) -> dict[str, Any]:
    mechanism = session.scalars(select(Mechanism).where(col(Mechanism.slug) == slug)).first()
    if mechanism is None:
        raise NotFoundError("mechanism", slug)
    return represent_many(session, [mechanism])[0]


def mechanisms_for_regimens(session: Session, regimen_slugs: Sequence[str]) -> list[dict[str, Any]]:
    """Mechanisms documented for these regimens (for dose intelligence)."""
    statement = (
        select(Mechanism)
        .join(Regimen, col(Regimen.id) == col(Mechanism.regimen_id))
        .where(col(Regimen.slug).in_(list(regimen_slugs)))
        .order_by(col(Mechanism.slug))
    )
    return represent_many(session, session.scalars(statement).all())
