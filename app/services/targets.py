"""Targets (receptors) with the mechanisms documented at each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Mechanism, Target
from app.services.embeds import bookkeeping, group_by


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
