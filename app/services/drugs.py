"""Drugs with identifiers, salts, contraindications, regulatory history and regimens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFoundError
from app.models import Approval, Drug, Regimen, Source
from app.services.embeds import bookkeeping, group_by, source_citation, sources_by_id


def represent_many(session: Session, drugs: Sequence[Drug]) -> list[dict[str, Any]]:
    ids = [d.id for d in drugs]
    approvals = group_by(
        session.scalars(select(Approval).where(col(Approval.drug_id).in_(ids)).order_by(col(Approval.ordinal))).all(),
        "drug_id",
    )
    regimen_rows = session.scalars(
        select(Regimen).where(col(Regimen.drug_id).in_(ids)).order_by(col(Regimen.slug))
    ).all()
    regimens = group_by(regimen_rows, "drug_id")
    regimen_slugs = {r.id: r.slug for r in regimen_rows}
    contraindication_slugs = {c["source"] for d in drugs for c in d.contraindications}
    by_slug = {
        s.slug: s for s in session.scalars(select(Source).where(col(Source.slug).in_(contraindication_slugs))).all()
    }
    approval_sources = sources_by_id(session, (a.source_id for g in approvals.values() for a in g if a.source_id))
    out = []
    for d in drugs:
        out.append(
            {
                "slug": d.slug,
                "name": d.name,
                "synonyms": d.synonyms,
                "identifiers": d.identifiers,
                "salts": d.salts,
                "contraindications": [
                    {
                        "text": c["text"],
                        "verification": c["verification"],
                        "note": c.get("note"),
                        "source": source_citation(by_slug[c["source"]]),
                    }
                    for c in d.contraindications
                ],
                "approval_history": [
                    {
                        "slug": a.slug,
                        "date": a.date,
                        "date_note": a.date_note,
                        "event": a.event,
                        "product": a.product,
                        "application": a.application,
                        "regimen": regimen_slugs.get(a.regimen_id) if a.regimen_id else None,
                        "verification": a.verification,
                        "source": source_citation(approval_sources[a.source_id]) if a.source_id else None,
                    }
                    for a in approvals.get(d.id or 0, [])
                ],
                "regimens": [
                    {"slug": r.slug, "name": r.name, "band": r.band, "approval_status": r.approval_status}
                    for r in regimens.get(d.id or 0, [])
                ],
                "clinical_summary": d.clinical_summary,
                "plain_summary": d.plain_summary,
                **bookkeeping(d),
            }
        )
    return out


def get_drug(session: Session, *, slug: str) -> dict[str, Any]:
    drug = session.scalars(select(Drug).where(col(Drug.slug) == slug)).first()
    if drug is None:
        raise NotFoundError("drug", slug)
    return represent_many(session, [drug])[0]
