"""CDS Hooks bookkeeping: feedback received and JWT ids already used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class CdsFeedback(SQLModel, table=True):
    __tablename__ = "cds_feedback"

    id: int | None = Field(default=None, primary_key=True)
    service_id: str = Field(max_length=120, index=True)
    card: str = Field(max_length=120, index=True, description="The card's uuid.")
    outcome: str = Field(max_length=20, description="accepted | overridden")
    outcome_timestamp: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    received_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=True)


class UsedJwtId(SQLModel, table=True):
    """A ``jti`` seen in a CDS Hooks JWT; a token whose jti is here is a replay."""

    __tablename__ = "used_jwt_id"

    jti: str = Field(primary_key=True, max_length=255)
    issuer: str = Field(max_length=255)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False, index=True)
