"""The dataset's state (content version) and the metadata every response carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import DatasetState
from app.services.embeds import iso_utc

DISCLAIMER = (
    "Reference information about naltrexone for health professionals and informed readers; "
    "not medical advice. Off-label uses are labelled as such. Decisions about treatment belong "
    "to a patient and their clinician."
)
LICENCE = "Apache-2.0 (code and curated records); quoted passages remain their sources' copyright."


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    content_version: int
    content_hash: str
    last_updated: datetime | None


def dataset_info(session: Session) -> DatasetInfo:
    state = session.scalars(select(DatasetState).where(col(DatasetState.id) == 1)).first()
    if state is None:
        return DatasetInfo(0, "", None)
    return DatasetInfo(state.content_version, state.content_hash, state.last_updated)


def dataset_meta(info: DatasetInfo) -> dict[str, Any]:
    """The ``meta`` every answer carries about the dataset, in a fixed key order."""
    return {
        "disclaimer": DISCLAIMER,
        "licence": LICENCE,
        "dataset_version": info.content_version,
        "last_updated": iso_utc(info.last_updated),
    }
