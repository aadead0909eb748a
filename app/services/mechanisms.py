"""Mechanisms: drug x target x dose context, with evidence and sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Mechanism, MechanismSource, Regimen, Target
from app.services import regimens as regimen_service
from app.services import targets as target_service
from app.services.embeds import bookkeeping, group_by, source_citation, sources_by_id


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
