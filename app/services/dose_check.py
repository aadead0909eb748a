"""Dose intelligence: place a naltrexone dose against every documented range in the store.

The numbers come from the content (every regimen's attributed dose ranges), never from code. The
answer carries the verdict per range and source, the mechanisms and indications documented for the
regimens the dose lies in, and warnings: the label's contraindications (at every dose), a route that
does not fit, a weight-based limit when a weight is given, a dose in no documented regimen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.dosing import (
    Classification,
    Dose,
    DoseInputError,
    RangeSpec,
    classify,
    dose_warnings,
    parse_dose,
    parse_schedule,
    weight_based_check,
)
from app.models import DoseRange, Drug, Regimen, Source
from app.services import drugs as drug_service
from app.services import indications as indication_service
from app.services import mechanisms as mechanism_service
from app.services.dataset import DatasetInfo, dataset_info
from app.services.embeds import number, source_citation
from app.services.regimens import range_display
from app.services.regimens import summary as regimen_summary

DRUG_SLUG = "naltrexone"


@dataclass(frozen=True, slots=True)
class DoseRequest:
    amount: Decimal | str | None
    unit: str | None
    frequency: str | None
    route: str | None = None
    weight_kg: Decimal | str | None = None
    schedule: str | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    """Everything a dose check reads from the store, loaded once per content version."""

    ranges: tuple[RangeSpec, ...]
    range_info: dict[str, dict[str, Any]]
    regimens: dict[str, dict[str, Any]]
    contraindications: tuple[dict[str, Any], ...]
    mechanisms: dict[str, list[dict[str, Any]]]
    indications: dict[str, list[dict[str, Any]]]
    info: DatasetInfo
    drug: dict[str, Any] | None


@dataclass(slots=True)
class _Snapshot:
    """The context of one content version and the answers already given for it."""

    version: int
    context: _Context
    answers: OrderedDict[tuple[Any, ...], dict[str, Any]]


ANSWERS_KEPT = 2048
_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _load(session: Session) -> _Context:
    rows = session.execute(
        select(DoseRange, Regimen, Source)
        .join(Regimen, col(Regimen.id) == col(DoseRange.regimen_id))
        .join(Source, col(Source.id) == col(DoseRange.source_id))
        .order_by(col(Regimen.slug), col(DoseRange.ordinal))
    ).all()
    ranges: list[RangeSpec] = []
    info: dict[str, dict[str, Any]] = {}
    regimens: dict[str, dict[str, Any]] = {}
    for dose_range, regimen, source in rows:
        ranges.append(
            RangeSpec(
                regimen=regimen.slug,
                band=regimen.band,
                route=regimen.route,
                range_slug=dose_range.slug,
                source=source.slug,
                label=dose_range.label,
                min=dose_range.min_value,
                max=dose_range.max_value,
                min_inclusive=dose_range.min_inclusive,
                max_inclusive=dose_range.max_inclusive,
                unit=dose_range.unit,
                period_value=dose_range.period_value,
                period_unit=dose_range.period_unit,
                per=dose_range.per,
                cap=dose_range.cap_value,
                cap_unit=dose_range.cap_unit,
                verification=dose_range.verification,
                source_title=source.title,
                is_reference=dose_range.is_reference,
                approval_status=regimen.approval_status,
            )
        )
        info[dose_range.slug] = {
            "display": range_display(dose_range),
            "quote": dose_range.quote,
            "verification": dose_range.verification,
            "is_reference": dose_range.is_reference,
            "source": source_citation(source),
        }
        regimens[regimen.slug] = regimen_summary(regimen)
    drug = session.scalars(select(Drug).where(col(Drug.slug) == DRUG_SLUG)).first()
    contraindications = tuple(drug.contraindications) if drug else ()
    drug_record = drug_service.represent_many(session, [drug])[0] if drug else None
    slugs = sorted(regimens)
    mechanisms: dict[str, list[dict[str, Any]]] = {s: [] for s in slugs}
    for m in mechanism_service.mechanisms_for_regimens(session, slugs):
        mechanisms[m["regimen"]["slug"]].append(
            {
                "slug": m["slug"],
                "name": m["name"],
                "target": m["target"]["slug"],
                "action": m["action"],
                "dose_context": m["dose_context"],
                "evidence_level": m["evidence_level"],
                "attribution": m["attribution"],
            }
        )
    indications: dict[str, list[dict[str, Any]]] = {s: [] for s in slugs}
    for i in indication_service.indications_for_regimens(session, slugs):
        indications[i["regimen"]["slug"]].append(
            {
                "slug": i["slug"],
                "condition": i["condition"]["name"],
                "status": i["status"],
                "evidence_level": i["evidence"]["level"],
                "evidence_direction": i["evidence"]["direction"],
            }
        )
    return _Context(
        tuple(ranges), info, regimens, contraindications, mechanisms, indications, dataset_info(session), drug_record
    )


def _current(session: Session, content_version: int | None) -> _Snapshot:
    """The snapshot for ``content_version`` (the caller's view of the store), loading it on a change.

    With ``None`` the version is read from the store. A warm snapshot answers with no query at all.
    """
    global _snapshot
    version = dataset_info(session).content_version if content_version is None else content_version
    with _lock:
        snapshot = _snapshot
    if snapshot is None or snapshot.version != version:
        snapshot = _Snapshot(version, _load(session), OrderedDict())
        with _lock:
            _snapshot = snapshot
    return snapshot


def snapshot_info(session: Session, *, content_version: int | None = None) -> DatasetInfo:
    """The dataset metadata of the snapshot the answers come from."""
    return _current(session, content_version).context.info


def snapshot_drug(session: Session, *, content_version: int | None = None) -> dict[str, Any] | None:
    """The drug record (identifiers, synonyms, contraindications) of the current snapshot."""
    return _current(session, content_version).context.drug


def parse(request: DoseRequest) -> Dose:
    """The request as a normalised dose (raises app.domain.dosing.DoseInputError naming the field)."""
    if request.schedule:
        return parse_schedule(request.schedule, route=request.route, weight_kg=request.weight_kg)
    if request.amount is None:
        raise DoseInputError("amount", "required (or give a weekly schedule)")
    if not request.unit:
        raise DoseInputError("unit", "required")
    if not request.frequency:
        raise DoseInputError("frequency", "required")
    return parse_dose(request.amount, request.unit, request.frequency, request.route, request.weight_kg)


def _warnings(context: _Context, classification: Classification) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "code": "label-contraindication",
            "message": item["text"],
            "source": item["source"],
            "verification": item.get("verification"),
            "note": item.get("note"),
        }
        for item in context.contraindications
    ]
    range_sources = {r.range_slug: r.source for r in context.ranges}
    dose = classification.dose
    for m in classification.matches:
        check = weight_based_check(dose, m.range)
        if check is not None and not check.exceeds:
            out.append({"code": "weight-based-limit", "message": check.message, "source": m.range.source})
    for w in dose_warnings(classification):
        out.append(
            {
                "code": w.code,
                "message": w.message,
                "source": range_sources.get(w.range_slug or "") if w.range_slug else None,
            }
        )
    return out


def check_dose(session: Session, request: DoseRequest, *, content_version: int | None = None) -> dict[str, Any]:
    """The dose-check answer (see the /v1/dose-check contract), remembered per content version."""
    snapshot = _current(session, content_version)
    key = (request.amount, request.unit, request.frequency, request.route, request.weight_kg, request.schedule)
    with _lock:
        answer = snapshot.answers.get(key)
    if answer is None:
        answer = _answer(snapshot.context, request)
        with _lock:
            snapshot.answers[key] = answer
            if len(snapshot.answers) > ANSWERS_KEPT:
                snapshot.answers.popitem(last=False)
    return answer


def _answer(context: _Context, request: DoseRequest) -> dict[str, Any]:
    dose = parse(request)
    classification = classify(dose, context.ranges)
    matches = []
    for m in classification.matches:
        info = context.range_info[m.range.range_slug]
        matches.append(
            {
                "regimen": m.range.regimen,
                "band": m.range.band,
                "source": m.range.source,
                "range": {
                    "slug": m.range.range_slug,
                    "label": m.range.label,
                    "display": info["display"],
                    "min": number(m.range.min),
                    "max": number(m.range.max),
                    "min_inclusive": m.range.min_inclusive,
                    "max_inclusive": m.range.max_inclusive,
                    "unit": m.range.unit,
                    "period": {"value": number(m.range.period_value), "unit": m.range.period_unit},
                    "mg_per_day_min": number(m.mg_per_day_min),
                    "mg_per_day_max": number(m.mg_per_day_max),
                    "is_reference": info["is_reference"],
                    "quote": info["quote"],
                    "verification": info["verification"],
                },
                "position": m.position,
                "comparable": m.comparable,
                "route_fits": m.route_fits,
                "basis": m.basis,
                "note": m.note,
                "source_citation": info["source"],
            }
        )
    inside = list(classification.regimens)
    return {
        "input": {
            "amount": number(dose.amount),
            "unit": dose.unit_input,
            "frequency": dose.frequency,
            "route": dose.route,
            "weight_kg": number(dose.weight_kg),
        },
        "normalized": {
            "mg_per_administration": number(dose.mg_per_administration),
            "mg_per_day": number(dose.mg_per_day),
            "administrations_per_day": number(dose.administrations_per_day),
            "period_days": number(dose.period_days),
            "frequency": dose.frequency_description,
            "route": dose.route,
        },
        "documented": classification.documented,
        "above_all_documented": classification.above_all,
        "below_all_documented": classification.below_all,
        "verdict": classification.verdict,
        "regimens": [context.regimens[slug] for slug in inside],
        "bands": list(classification.bands),
        "matches": matches,
        "mechanisms": [m for slug in inside for m in context.mechanisms.get(slug, [])],
        "indications": [i for slug in inside for i in context.indications.get(slug, [])],
        "warnings": _warnings(context, classification),
    }
