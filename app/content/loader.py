"""Load the curated dataset into the store, idempotently.

Each record's curated fields are hashed; an unchanged record is left alone, a changed one is updated
in place (its child rows replaced), its version incremented and a revision written. Records that left
the dataset are deleted, with a revision. Any change bumps the dataset's content version, which every
cached representation is keyed on. The whole load is one transaction: a bad dataset changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel, col

from app.content.schema import (
    KINDS,
    ConditionRecord,
    Dataset,
    DrugRecord,
    IndicationRecord,
    MechanismRecord,
    RegimenRecord,
    SourceRecord,
    TargetRecord,
)
from app.models import (
    Approval,
    Condition,
    ConditionCode,
    DatasetState,
    DoseRange,
    Drug,
    Indication,
    IndicationSource,
    Mechanism,
    MechanismSource,
    RecordChange,
    Regimen,
    Revision,
    Source,
    Study,
    Target,
)
from app.models.common import RecordBase, utcnow
from app.services.search import rebuild_search_index


class ContentError(ValueError):
    """The dataset is inconsistent (a dangling reference, a duplicate slug)."""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    content_version: int = 0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values()) or any(self.deleted.values())


def record_hash(record: BaseModel) -> str:
    payload = orjson.dumps(record.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def dataset_hash(dataset: Dataset) -> str:
    payload = orjson.dumps(dataset.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


class _Refs:
    """slug -> id per kind, for resolving references while loading."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}

    def get(self, kind: str, slug: str, where: str) -> int:
        try:
            return self.ids[kind][slug]
        except KeyError:
            raise ContentError(f"{where}: unknown {kind[:-1]} '{slug}'") from None

    def optional(self, kind: str, slug: str | None, where: str) -> int | None:
        return None if slug is None else self.get(kind, slug, where)


def _summaries(r: Any) -> dict[str, Any]:
    return {"clinical_summary": r.clinical_summary, "plain_summary": r.plain_summary}


def _source_fields(r: SourceRecord, _refs: _Refs) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "title": r.title,
        "authors": r.authors,
        "journal": r.journal,
        "year": r.year,
        "citation": r.citation,
        "url": r.url,
        "identifiers": [i.model_dump(mode="json", exclude_none=True) for i in r.identifiers],
        "verification": r.verification,
        "note": r.note,
    }


def _drug_fields(r: DrugRecord, refs: _Refs) -> dict[str, Any]:
    contraindications = []
    for c in r.contraindications:
        refs.get("sources", c.source, f"drug {r.slug} contraindication")
        contraindications.append(c.model_dump(mode="json", exclude_none=True))
    return {
        "name": r.name,
        "synonyms": list(r.synonyms),
        "identifiers": [i.model_dump(mode="json", exclude_none=True) for i in r.identifiers],
        "salts": [s.model_dump(mode="json", exclude_none=True) for s in r.salts],
        "contraindications": contraindications,
        **_summaries(r),
    }


def _target_fields(r: TargetRecord, _refs: _Refs) -> dict[str, Any]:
    return {
        "name": r.name,
        "gene_symbol": r.gene_symbol,
        "uniprot": r.uniprot,
        "family": r.family,
        "synonyms": list(r.synonyms),
        "identifiers": [i.model_dump(mode="json", exclude_none=True) for i in r.identifiers],
        **_summaries(r),
    }


def _regimen_fields(r: RegimenRecord, refs: _Refs) -> dict[str, Any]:
    return {
        "drug_id": refs.get("drugs", r.drug, f"regimen {r.slug}"),
        "name": r.name,
        "band": r.band,
        "route": r.route,
        "form": r.form,
        "frequency": r.frequency,
        "timing": r.timing,
        "approval_status": r.approval_status,
        "population": r.population,
        **_summaries(r),
    }


def _mechanism_fields(r: MechanismRecord, refs: _Refs) -> dict[str, Any]:
    where = f"mechanism {r.slug}"
    return {
        "drug_id": refs.get("drugs", r.drug, where),
        "target_id": refs.get("targets", r.target, where),
        "regimen_id": refs.optional("regimens", r.regimen, where),
        "name": r.name,
        "dose_context": r.dose_context,
        "action": r.action,
        "effect": r.effect,
        "dose_dependence": r.dose_dependence,
        "evidence_level": r.evidence_level,
        "attribution": r.attribution,
        **_summaries(r),
    }


def _condition_fields(r: ConditionRecord, _refs: _Refs) -> dict[str, Any]:
    return {"name": r.name, "category": r.category, "synonyms": list(r.synonyms), **_summaries(r)}


def _indication_fields(r: IndicationRecord, refs: _Refs) -> dict[str, Any]:
    where = f"indication {r.slug}"
    return {
        "drug_id": refs.get("drugs", r.drug, where),
        "condition_id": refs.get("conditions", r.condition, where),
        "regimen_id": refs.get("regimens", r.regimen, where),
        "status": r.status,
        "evidence_level": r.evidence_level,
        "evidence_direction": r.evidence_direction,
        "claim_basis": r.claim_basis,
        "source_quote": r.source_quote,
        **_summaries(r),
    }


def _regimen_children(session: Session, parent_id: int, r: RegimenRecord, refs: _Refs) -> None:
    session.execute(delete(DoseRange).where(DoseRange.regimen_id == parent_id))  # type: ignore[arg-type]
    session.flush()
    for i, dr in enumerate(r.dose_ranges):
        session.add(
            DoseRange(
                slug=dr.slug,
                regimen_id=parent_id,
                source_id=refs.get("sources", dr.source, f"dose range {dr.slug}"),
                label=dr.label,
                min_value=dr.min,
                max_value=dr.max,
                min_inclusive=dr.min_inclusive,
                max_inclusive=dr.max_inclusive,
                unit=dr.unit,
                period_value=dr.period_value,
                period_unit=dr.period_unit,
                per=dr.per,
                cap_value=dr.cap,
                cap_unit=dr.cap_unit,
                is_reference=dr.is_reference,
                reference_reason=dr.reference_reason,
                quote=dr.quote,
                verification=dr.verification,
                note=dr.note,
                ordinal=i,
                content_hash=record_hash(dr),
            )
        )


def _mechanism_children(session: Session, parent_id: int, r: MechanismRecord, refs: _Refs) -> None:
    session.execute(delete(MechanismSource).where(MechanismSource.mechanism_id == parent_id))  # type: ignore[arg-type]
    for i, cited in enumerate(r.sources):
        source_id = refs.get("sources", cited.source, f"mechanism {r.slug}")
        session.add(MechanismSource(mechanism_id=parent_id, source_id=source_id, quote=cited.quote, ordinal=i))


def _condition_children(session: Session, parent_id: int, r: ConditionRecord, _refs: _Refs) -> None:
    session.execute(delete(ConditionCode).where(ConditionCode.condition_id == parent_id))  # type: ignore[arg-type]
    for i, c in enumerate(r.codes):
        session.add(
            ConditionCode(
                condition_id=parent_id,
                system=c.system,
                code=c.code,
                display=c.display,
                code_kind=c.kind,
                version_note=c.version_note,
                verification=c.verification,
                ordinal=i,
            )
        )


def _indication_children(session: Session, parent_id: int, r: IndicationRecord, refs: _Refs) -> None:
    session.execute(delete(IndicationSource).where(IndicationSource.indication_id == parent_id))  # type: ignore[arg-type]
    session.execute(delete(Study).where(Study.indication_id == parent_id))  # type: ignore[arg-type]
    session.flush()
    where = f"indication {r.slug}"
    for i, cited in enumerate(r.sources):
        source_id = refs.get("sources", cited.source, where)
        session.add(IndicationSource(indication_id=parent_id, source_id=source_id, role=cited.role, ordinal=i))
    for i, s in enumerate(r.studies):
        session.add(
            Study(
                slug=s.slug,
                indication_id=parent_id,
                source_id=refs.get("sources", s.source, f"{where} study {s.slug}"),
                design=s.design,
                participants=s.participants,
                dose=s.dose,
                result=s.result,
                outcome=s.outcome,
                ordinal=i,
                content_hash=record_hash(s),
            )
        )


def _drug_approvals(session: Session, drug_id: int, r: DrugRecord, refs: _Refs) -> None:
    session.execute(delete(Approval).where(Approval.drug_id == drug_id))  # type: ignore[arg-type]
    session.flush()
    for i, a in enumerate(r.approvals):
        where = f"drug {r.slug} approval {a.slug}"
        session.add(
            Approval(
                slug=a.slug,
                drug_id=drug_id,
                regimen_id=refs.optional("regimens", a.regimen, where),
                source_id=refs.optional("sources", a.source, where),
                date=a.date,
                date_note=a.date_note,
                event=a.event,
                product=a.product,
                application=a.application,
                verification=a.verification,
                ordinal=i,
                content_hash=record_hash(a),
            )
        )


Fields = Callable[[Any, _Refs], dict[str, Any]]
Children = Callable[[Session, int, Any, _Refs], None]

# Load order follows the references: a kind only points at kinds loaded before it.
_SPECS: tuple[tuple[str, type[RecordBase], Fields, Children | None], ...] = (
    ("sources", Source, _source_fields, None),
    ("drugs", Drug, _drug_fields, None),
    ("targets", Target, _target_fields, None),
    ("regimens", Regimen, _regimen_fields, _regimen_children),
    ("mechanisms", Mechanism, _mechanism_fields, _mechanism_children),
    ("conditions", Condition, _condition_fields, _condition_children),
    ("indications", Indication, _indication_fields, _indication_children),
)


def _check_lengths(model: type[SQLModel], kind: str, slug: str, values: dict[str, Any]) -> None:
    """Refuse a value longer than its column, on every store alike (SQLite would not check)."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if length is not None and isinstance(value, str) and len(value) > length:
            raise ContentError(f"{kind} '{slug}': {name} is {len(value)} characters, at most {length} fit")


def _check_unique(dataset: Dataset) -> None:
    for kind in KINDS:
        seen: set[str] = set()
        for record in getattr(dataset, kind):
            if record.slug in seen:
                raise ContentError(f"{kind}: duplicate slug '{record.slug}'")
            seen.add(record.slug)
    children: set[str] = set()
    nested = [dr.slug for r in dataset.regimens for dr in r.dose_ranges]
    nested += [s.slug for r in dataset.indications for s in r.studies]
    nested += [a.slug for r in dataset.drugs for a in r.approvals]
    for slug in nested:
        if slug in children:
            raise ContentError(f"duplicate child slug '{slug}' (dose ranges, studies, approvals)")
        children.add(slug)


def _revision(session: Session, kind: str, slug: str, version: int, change: str, snapshot: dict[str, Any]) -> None:
    session.add(Revision(record_kind=kind, slug=slug, version=version, change=change, snapshot=snapshot))


def load_dataset(session: Session, dataset: Dataset) -> LoadReport:
    """Bring the store in line with ``dataset`` in one transaction; return what changed."""
    _check_unique(dataset)
    report = LoadReport()
    refs = _Refs()
    now: datetime = utcnow()
    changed_drugs: list[tuple[int, DrugRecord]] = []
    for kind, model, fields, children in _SPECS:
        existing = {row.slug: row for row in session.scalars(select(model)).all()}
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for record in getattr(dataset, kind):
            digest = record_hash(record)
            row = existing.get(record.slug)
            if row is not None and row.content_hash == digest:
                counts["unchanged"] += 1
                assert row.id is not None
                refs.ids[kind][record.slug] = row.id
                continue
            values = fields(record, refs)
            _check_lengths(model, kind, record.slug, values)
            if row is None:
                row = model(slug=record.slug, content_hash=digest, created_at=now, updated_at=now, **values)
                session.add(row)
                change = "create"
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                row.content_hash = digest
                row.version += 1
                row.updated_at = now
                change = "update"
            session.flush()
            assert row.id is not None
            refs.ids[kind][record.slug] = row.id
            if children is not None:
                children(session, row.id, record, refs)
            if kind == "drugs":
                changed_drugs.append((row.id, record))
            _revision(session, kind, record.slug, row.version, change, record.model_dump(mode="json"))
            counts["created" if change == "create" else "updated"] += 1
        report.created[kind] = counts["created"]
        report.updated[kind] = counts["updated"]
        report.unchanged[kind] = counts["unchanged"]
    for drug_id, drug in changed_drugs:
        _drug_approvals(session, drug_id, drug, refs)
    session.flush()
    _delete_missing(session, dataset, report)
    rebuild_search_index(session)
    state = session.get(DatasetState, 1)
    if state is None:
        state = DatasetState(id=1, content_version=0)
        session.add(state)
    if report.changed or state.content_version == 0:
        state.content_version += 1
        state.content_hash = dataset_hash(dataset)
        state.last_updated = now
    report.content_version = state.content_version
    if report.changed or not _feed_started(session):
        # Imported here: a restart on a loaded store needs neither the feed nor the representers.
        from app.services.changes import log_changes

        session.flush()
        log_changes(session, state.content_version, now)
    session.commit()
    return report


def _feed_started(session: Session) -> bool:
    """Whether the changes feed holds any line (a store loaded before the feed existed has none)."""
    return session.scalars(select(col(RecordChange.id)).limit(1)).first() is not None


def _delete_missing(session: Session, dataset: Dataset, report: LoadReport) -> None:
    """Delete records that left the dataset, dependants first."""
    for kind, model, _fields, _children in reversed(_SPECS):
        keep = {r.slug for r in getattr(dataset, kind)}
        gone = [row for row in session.scalars(select(model)).all() if row.slug not in keep]
        for row in gone:
            _delete_children(session, kind, row)
            _revision(session, kind, row.slug, row.version + 1, "delete", {})
            session.delete(row)
        report.deleted[kind] = len(gone)
        session.flush()


def _delete_children(session: Session, kind: str, row: SQLModel) -> None:
    rid = row.id  # type: ignore[attr-defined]
    child_tables: dict[str, list[Any]] = {
        "regimens": [DoseRange.regimen_id],
        "mechanisms": [MechanismSource.mechanism_id],
        "conditions": [ConditionCode.condition_id],
        "indications": [IndicationSource.indication_id, Study.indication_id],
        "drugs": [Approval.drug_id],
    }
    for column in child_tables.get(kind, []):
        session.execute(delete(column.class_).where(column == rid))
