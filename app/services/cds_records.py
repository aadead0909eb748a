"""What CDS Hooks calls leave in the store: feedback received and JWT ids already used."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.models import CdsFeedback, UsedJwtId


def store_feedback(session: Session, *, service_id: str, items: list[dict[str, Any]]) -> int:
    """Store every feedback entry as received (one transaction); return how many."""
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


def claim_jwt_id(session: Session, *, issuer: str, jti: str, expires_at: int) -> bool:
    """Record a jti; False when it was already used (a replay). Expired records are purged."""
    now = datetime.now(UTC)
    session.execute(delete(UsedJwtId).where(col(UsedJwtId.expires_at) < now))
    session.add(
        UsedJwtId(jti=f"{issuer}|{jti}"[:255], issuer=issuer[:255], expires_at=datetime.fromtimestamp(expires_at, UTC))
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
