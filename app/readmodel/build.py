"""Building a read model from the store: every kind represented once, plus the dose ranges.

The build reads the dataset's state (content version and hash) before and after it reads the records; if
a content load committed in between, the state differs and the build starts again, so a model never
mixes two versions (on either store, whatever its isolation level).
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.domain.dosing import RangeSpec
from app.kinds import KINDS
from app.kinds.base import Record
from app.models import DoseRange, Regimen
from app.readmodel.model import DoseRangeFact, ModelKey, ReadModel
from app.services.dataset import DatasetInfo, dataset_info

ATTEMPTS = 5


class ContentMovedError(RuntimeError):
    """The content kept changing while the model was being built."""


def engine_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def read_state(engine: Engine) -> DatasetInfo:
    """The dataset's state (one small query)."""
    with Session(engine) as session:
        return dataset_info(session)


def model_key(engine: Engine, info: DatasetInfo) -> ModelKey:
    return (engine_key(engine), info.content_version, info.content_hash)


def _dose_ranges(session: Session, regimens: list[Record]) -> list[DoseRangeFact]:
    """Each regimen's ranges, with exact amounts from the store and the texts its representation shows."""
    represented = {r["slug"]: r for r in regimens}
    rows = session.execute(
        select(DoseRange, col(Regimen.slug))
        .join(Regimen, col(Regimen.id) == col(DoseRange.regimen_id))
        .order_by(col(Regimen.slug), col(DoseRange.ordinal))
    ).all()
    out = []
    for dose_range, regimen_slug in rows:
        regimen = represented[regimen_slug]
        shown = next(x for x in regimen["dose_ranges"] if x["slug"] == dose_range.slug)
        spec = RangeSpec(
            regimen=regimen_slug,
            band=regimen["band"],
            route=regimen["route"],
            range_slug=dose_range.slug,
            source=shown["source"]["slug"],
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
            schedule=dose_range.schedule,
            population=regimen["population"],
        )
        summary = {k: regimen[k] for k in ("slug", "name", "band", "route", "approval_status", "population")}
        out.append(
            DoseRangeFact(
                spec=spec,
                display=shown["display"],
                quote=shown["quote"],
                verification=shown["verification"],
                is_reference=shown["is_reference"],
                note=shown["note"],
                source=shown["source"],
                regimen=summary,
            )
        )
    return out


def build_read_model(engine: Engine) -> ReadModel:
    """A model of the store's current content (several queries; never on a request's path)."""
    started = time.perf_counter()
    for _ in range(ATTEMPTS):
        with Session(engine) as session:
            before = dataset_info(session)
            records = {kind.name: kind.represent(session) for kind in KINDS}
            dose_ranges = _dose_ranges(session, records["regimens"])
            after = dataset_info(session)
        if before == after:
            return ReadModel.create(
                model_key(engine, before), before, records, dose_ranges, time.perf_counter() - started
            )
    raise ContentMovedError(f"the content changed during each of {ATTEMPTS} builds")
