"""Regimens with every source's dose range, attributed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import DoseRange, Drug, Regimen
from app.services.embeds import bookkeeping, group_by, number, source_citation, sources_by_id
from app.services.record_warnings import record_warnings

_UNIT_TEXT = {"ug": "µg", "mg": "mg", "mg/kg": "mg/kg"}
_PERIOD_TEXT = {"d": "day", "wk": "week", "mo": "month"}


def range_display(r: DoseRange) -> str:
    """Human text for a range, e.g. '1–5 mg/day', '< 4 mg/day', '100 mg every 2 days', '0.1 mg/kg per
    administration (frequency not stated) (maximum 4.5 mg)'."""
    unit = _UNIT_TEXT.get(r.unit, r.unit)
    lo, hi = number(r.min_value), number(r.max_value)
    if lo is not None and hi is not None:
        amount = f"{lo} {unit}" if lo == hi else f"{lo}–{hi} {unit}"
    elif hi is not None:
        amount = f"{'≤' if r.max_inclusive else '<'} {hi} {unit}"
    else:
        amount = f"{'≥' if r.min_inclusive else '>'} {lo} {unit}"
    period = number(r.period_value)
    name = _PERIOD_TEXT.get(r.period_unit, r.period_unit)
    if r.per == "administration-only":
        text = f"{amount} per administration (frequency not stated)"
    else:
        text = f"{amount}/{name}" if period == 1 else f"{amount} every {period} {name}s"
    if r.cap_value is not None:
        text += f" (maximum {number(r.cap_value)} {_UNIT_TEXT.get(r.cap_unit or '', r.cap_unit)})"
    return text


def represent_range(r: DoseRange, citation: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": r.slug,
        "label": r.label,
        "display": range_display(r),
        "min": number(r.min_value),
        "max": number(r.max_value),
        "min_inclusive": r.min_inclusive,
        "max_inclusive": r.max_inclusive,
        "unit": r.unit,
        "period": {"value": number(r.period_value), "unit": r.period_unit},
        "per": r.per,
        "cap": None if r.cap_value is None else {"value": number(r.cap_value), "unit": r.cap_unit},
        "schedule": r.schedule,
        "is_reference": r.is_reference,
        "reference_reason": r.reference_reason,
        "quote": r.quote,
        "verification": r.verification,
        "note": r.note,
        "source": citation,
    }


def summary(regimen: Regimen) -> dict[str, Any]:
    """The compact form embedded in indications and mechanisms."""
    return {
        "slug": regimen.slug,
        "name": regimen.name,
        "band": regimen.band,
        "route": regimen.route,
        "approval_status": regimen.approval_status,
        "population": regimen.population,
    }


def represent_many(session: Session, regimens: Sequence[Regimen]) -> list[dict[str, Any]]:
    """Full representations in three queries whatever the count: ranges, drugs, sources."""
    ids = [r.id for r in regimens]
    ranges = group_by(
        session.scalars(
            select(DoseRange).where(col(DoseRange.regimen_id).in_(ids)).order_by(col(DoseRange.ordinal))
        ).all(),
        "regimen_id",
    )
    drugs = {
        d.id: d for d in session.scalars(select(Drug).where(col(Drug.id).in_({r.drug_id for r in regimens}))).all()
    }
    sources = sources_by_id(session, (x.source_id for group in ranges.values() for x in group))
    out = []
    for regimen in regimens:
        own = ranges.get(regimen.id or 0, [])
        reference = next((x.slug for x in own if x.is_reference), None)
        cited: dict[str, dict[str, Any]] = {}
        for x in own:
            cited.setdefault(sources[x.source_id].slug, source_citation(sources[x.source_id]))
        drug = drugs[regimen.drug_id]
        out.append(
            {
                "slug": regimen.slug,
                "name": regimen.name,
                "drug": {"slug": drug.slug, "name": drug.name},
                "band": regimen.band,
                "route": regimen.route,
                "form": regimen.form,
                "frequency": regimen.frequency,
                "timing": regimen.timing,
                "approval_status": regimen.approval_status,
                "population": regimen.population,
                "reference_range": reference,
                "dose_ranges": [represent_range(x, source_citation(sources[x.source_id])) for x in own],
                "sources": list(cited.values()),
                "warnings": record_warnings(session, regimen.drug_id),
                "clinical_summary": regimen.clinical_summary,
                "plain_summary": regimen.plain_summary,
                **bookkeeping(regimen),
            }
        )
    return out
