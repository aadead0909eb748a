"""Conditions and their codes; code lookups understand ICD-10-CM headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import Session, col

from app.domain.vocabulary import CODE_SYSTEM_URIS
from app.models import Condition, ConditionCode, Indication
from app.services.embeds import bookkeeping, group_by


def code_candidates(code: str) -> list[str]:
    """The code itself and every ICD-10-CM ancestor: 'K50.90' -> K50.90, K50.9, K50."""
    value = code.strip().upper().rstrip("-").rstrip(".")
    out = [value]
    while len(value) > 3:
        value = value[:-1].rstrip(".")
        out.append(value)
    return out


def matches_code(code: str, system: str | None = None) -> ColumnElement[bool]:
    """SQL condition: a ConditionCode row equal to ``code``, or an ICD-10-CM header above it."""
    exact = col(ConditionCode.code) == code.strip()
    headers = col(ConditionCode.code).in_(code_candidates(code))
    icd = (col(ConditionCode.system) == "icd-10-cm") & headers
    cond = or_(exact, icd) if system in (None, "icd-10-cm") else exact
    if system:
        cond = cond & (col(ConditionCode.system) == system)
    return cond


def matched_codes(codes: Sequence[Mapping[str, Any]], code: str, system: str | None) -> list[Mapping[str, Any]]:
    """The codes of ``codes`` equal to ``code``, or ICD-10-CM headers above it: :func:`matches_code`'s rule,
    over represented codes (the read model's filter and Infobutton read it)."""
    exact = code.strip()
    headers = set(code_candidates(code))
    return [
        c
        for c in codes
        if (not system or c["system"] == system)
        and (
            c["code"] == exact
            or (system in (None, "icd-10-cm") and c["system"] == "icd-10-cm" and c["code"] in headers)
        )
    ]


def condition_ids_for_code(code: str, system: str | None = None) -> Any:
    return select(col(ConditionCode.condition_id)).where(matches_code(code, system))


def represent_code(c: ConditionCode) -> dict[str, Any]:
    return {
        "system": c.system,
        "system_uri": CODE_SYSTEM_URIS.get(c.system),
        "code": c.code,
        "display": c.display,
        "kind": c.code_kind,
        "version_note": c.version_note,
        "verification": c.verification,
    }


def codes_for(session: Session, condition_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    rows = session.scalars(
        select(ConditionCode)
        .where(col(ConditionCode.condition_id).in_(condition_ids))
        .order_by(col(ConditionCode.condition_id), col(ConditionCode.ordinal))
    ).all()
    return {k: [represent_code(c) for c in v] for k, v in group_by(rows, "condition_id").items()}


def summary(condition: Condition, codes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"slug": condition.slug, "name": condition.name, "category": condition.category, "codes": codes}


def represent_many(session: Session, conditions: Sequence[Condition]) -> list[dict[str, Any]]:
    ids = [c.id for c in conditions if c.id is not None]
    codes = codes_for(session, ids)
    indications = group_by(
        session.scalars(
            select(Indication).where(col(Indication.condition_id).in_(ids)).order_by(col(Indication.slug))
        ).all(),
        "condition_id",
    )
    return [
        {
            "slug": c.slug,
            "name": c.name,
            "category": c.category,
            "synonyms": c.synonyms,
            "codes": codes.get(c.id or 0, []),
            "indications": [
                {"slug": i.slug, "status": i.status, "evidence_level": i.evidence_level}
                for i in indications.get(c.id or 0, [])
            ],
            "clinical_summary": c.clinical_summary,
            "plain_summary": c.plain_summary,
            **bookkeeping(c),
        }
        for c in conditions
    ]
