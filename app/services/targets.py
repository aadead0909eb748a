"""Targets (receptors) with the mechanisms documented at each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFoundError
from app.models import Mechanism, Target
from app.services.embeds import bookkeeping, group_by
from app.services.listing import Page, PageRequest, SortKey, paginate

SORTABLE = {
    "slug": SortKey(col(Target.slug)),
    "name": SortKey(col(Target.name)),
    "family": SortKey(col(Target.family)),
    "updated_at": SortKey(col(Target.updated_at), "datetime"),
}


def summary(target: Target) -> dict[str, Any]:
    return {
        "slug": target.slug,
        "name": target.name,
        "gene_symbol": target.gene_symbol,
        "family": target.family,
    }


def represent_many(session: Session, targets: Sequence[Target]) -> list[dict[str, Any]]:
    ids = [t.id for t in targets]
    mechanisms = group_by(
        session.scalars(select(Mechanism).where(col(Mechanism.target_id).in_(ids)).order_by(col(Mechanism.slug))).all(),
        "target_id",
    )
    return [
        {
            "slug": t.slug,
            "name": t.name,
            "gene_symbol": t.gene_symbol,
            "uniprot": t.uniprot,
            "family": t.family,
            "synonyms": t.synonyms,
            "identifiers": t.identifiers,
            "mechanisms": [
                {
                    "slug": m.slug,
                    "name": m.name,
                    "dose_context": m.dose_context,
                    "action": m.action,
                    "evidence_level": m.evidence_level,
                    "attribution": m.attribution,
                }
                for m in mechanisms.get(t.id or 0, [])
            ],
            "clinical_summary": t.clinical_summary,
            "plain_summary": t.plain_summary,
            **bookkeeping(t),
        }
        for t in targets
    ]


def list_targets(session: Session, *, page: PageRequest, family: str | None = None) -> Page[dict[str, Any]]:
    statement = select(Target)
    if family:
        statement = statement.where(col(Target.family) == family)
    result = paginate(session, statement, col(Target.slug), SORTABLE, page)
    return Page(represent_many(session, result.items), result.total, result.limit, result.next_cursor)


def get_target(session: Session, *, slug: str) -> dict[str, Any]:
    target = session.scalars(select(Target).where(col(Target.slug) == slug)).first()
    if target is None:
        raise NotFoundError("target", slug)
    return represent_many(session, [target])[0]
