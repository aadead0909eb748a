"""What CDS Hooks calls leave in the store: feedback received and JWT ids already used.

Both are bounded: feedback older than the retention period and JWT ids past their token's expiry are
deleted as new rows arrive, so neither table grows without end.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.models import CdsFeedback, UsedJwtId


def prune_feedback(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete feedback received more than ``retention_days`` ago (not committed); return how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    result = session.execute(delete(CdsFeedback).where(col(CdsFeedback.received_at) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def store_feedback(
    session: Session, *, service_id: str, items: list[dict[str, Any]], retention_days: int | None = None
) -> int:
    """Store every (validated) feedback entry in one transaction, pruning expired ones; return how many."""
    if retention_days is not None:
        prune_feedback(session, retention_days=retention_days)
    for item in items:
        session.add(
            CdsFeedback(
                service_id=service_id,
                card=str(item["card"]),
                outcome=str(item["outcome"]),
                outcome_timestamp=item.get("outcomeTimestamp"),
                payload=item,
            )
        )
    session.commit()
    return len(items)


def jwt_id_key(issuer: str, jti: str) -> str:
    """The stored key of a jti: a SHA-256 of issuer and jti (distinct long jtis never collide)."""
    return hashlib.sha256(issuer.encode() + b"\x00" + jti.encode()).hexdigest()


def prune_jwt_ids(session: Session, *, now: datetime | None = None) -> int:
    """Delete the jtis of tokens that have expired (not committed); return how many."""
    result = session.execute(delete(UsedJwtId).where(col(UsedJwtId.expires_at) < (now or datetime.now(UTC))))
    return int(getattr(result, "rowcount", 0) or 0)


def claim_jwt_id(session: Session, *, issuer: str, jti: str, expires_at: int) -> bool:
    """Record a jti; False when it was already used (a replay). Expired records are purged."""
    prune_jwt_ids(session)
    session.add(
        UsedJwtId(jti=jwt_id_key(issuer, jti), issuer=issuer[:255], expires_at=datetime.fromtimestamp(expires_at, UTC))
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
