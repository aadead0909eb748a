"""The changes feed and record revisions: what a content load changed, as clients see it.

:func:`log_changes` runs inside every content load's transaction (app/content/loader.py): it represents
every record as /v1 serves it and compares each record's strong ETag with the last one logged, so the
feed lists exactly the representations that moved (a record whose embedded neighbour changed included)
and the deletes. :func:`changes_page` and :func:`revisions` read the feed and the loader's revisions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFoundError, ProblemError
from app.models import RecordChange, Revision
from app.services.embeds import iso_utc


def record_etag(record: dict[str, Any]) -> str:
    """The strong ETag of one record's representation (the bytes /v1 and the bulk export serve)."""
    return '"' + hashlib.sha256(orjson.dumps(record)).hexdigest()[:32] + '"'


def _last_logged(session: Session) -> dict[tuple[str, str], str | None]:
    last: dict[tuple[str, str], str | None] = {}
    for kind, slug, change, etag in session.execute(
        select(
            col(RecordChange.kind), col(RecordChange.slug), col(RecordChange.change), col(RecordChange.etag)
        ).order_by(col(RecordChange.id))
    ):
        last[(kind, slug)] = None if change == "delete" else etag
    return last


def log_changes(session: Session, content_version: int, changed_at: datetime) -> int:
    """Log every record whose representation differs from the last logged one; return the lines written."""
    from app.kinds import KINDS  # the kinds import every service: not needed by a restart without a load

    last = _last_logged(session)
    seen: set[tuple[str, str]] = set()
    written = 0
    for kind in KINDS:
        for record in kind.represent(session):
            key = (kind.name, str(record["slug"]))
            seen.add(key)
            etag = record_etag(record)
            before = last.get(key)
            if key in last and before == etag:
                continue
            change = "create" if before is None else "update"
            session.add(
                RecordChange(
                    content_version=content_version,
                    kind=key[0],
                    slug=key[1],
                    change=change,
                    etag=etag,
                    changed_at=changed_at,
                )
            )
            written += 1
    for key, last_etag in last.items():
        if last_etag is not None and key not in seen:
            session.add(
                RecordChange(
                    content_version=content_version,
                    kind=key[0],
                    slug=key[1],
                    change="delete",
                    etag=None,
                    changed_at=changed_at,
                )
            )
            written += 1
    return written


# -- the feed ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Since:
    version: int | None = None
    at: datetime | None = None


def parse_since(value: str | None) -> Since:
    """``since`` is a content version (a whole number) or an ISO 8601 timestamp with a time zone."""
    if value is None or value == "":
        return Since()
    if value.isascii() and value.isdigit():
        if len(value) > 12:
            raise ProblemError("bad-request", "since: a content version has at most 12 digits.")
        return Since(version=int(value))
    try:
        # RFC 3339 allows a lower-case `t` and `z`.
        at = datetime.fromisoformat(value.upper().replace("Z", "+00:00")) if value.isascii() else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ProblemError(
            "bad-request",
            "since: give a content version (e.g. 3) or an ISO 8601 timestamp with a time zone "
            "(e.g. 2026-11-28T00:00:00Z).",
        )
    return Since(at=at)


def _filters_digest(kind: str | None, since: str | None) -> str:
    return hashlib.sha256(f"{kind or ''}\x00{since or ''}".encode()).hexdigest()[:16]


def encode_cursor(after_id: int, kind: str | None, since: str | None) -> str:
    raw = orjson.dumps({"after": after_id, "f": _filters_digest(kind, since)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str | None, since: str | None) -> int:
    bad = ProblemError("invalid-cursor", "cursor: not a cursor of this feed with these filters; start without it.")
    if len(cursor) > 200 or not cursor.isascii():
        raise bad
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("f") != _filters_digest(kind, since):
        raise bad
    after = data.get("after")
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**53:
        raise bad
    return after


def change_item(row: RecordChange) -> dict[str, Any]:
    item: dict[str, Any] = {
        "content_version": row.content_version,
        "kind": row.kind,
        "slug": row.slug,
        "change": row.change,
        "etag": row.etag,
        "changed_at": iso_utc(row.changed_at),
    }
    if row.change != "delete":
        item["links"] = {"self": f"/v1/{row.kind}/{row.slug}", "page": f"/pages/{row.kind}/{row.slug}"}
    return item


@dataclass(frozen=True, slots=True)
class ChangesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    latest_version: int


def changes_page(
    session: Session, *, kind: str | None, since: str | None, limit: int, cursor: str | None
) -> ChangesPage:
    """One page of the feed in content-version order (then the order the load wrote them)."""
    when = parse_since(since)
    query = select(RecordChange).order_by(col(RecordChange.content_version), col(RecordChange.id))
    if kind is not None:
        query = query.where(col(RecordChange.kind) == kind)
    if when.version is not None:
        query = query.where(col(RecordChange.content_version) > when.version)
    if when.at is not None:
        query = query.where(col(RecordChange.changed_at) > when.at)
    if cursor:
        query = query.where(col(RecordChange.id) > decode_cursor(cursor, kind, since))
    rows = list(session.scalars(query.limit(limit + 1)))
    latest = session.scalar(select(col(RecordChange.content_version)).order_by(col(RecordChange.id).desc()).limit(1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].id or 0, kind, since) if more and rows else None
    return ChangesPage([change_item(r) for r in rows], next_cursor, latest or 0)


# -- revisions ---------------------------------------------------------------------------------------------


def _revision_item(row: Revision, *, with_snapshot: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "version": row.version,
        "change": row.change,
        "changed_at": iso_utc(row.changed_at),
    }
    if with_snapshot:
        item["record"] = row.snapshot or None
    return item


def revisions(session: Session, kind: str, slug: str) -> list[dict[str, Any]]:
    """Every revision of one record, oldest first, without the content (404 when there is none)."""
    rows = session.scalars(
        select(Revision)
        .where(col(Revision.record_kind) == kind, col(Revision.slug) == slug)
        .order_by(col(Revision.version), col(Revision.id))
    ).all()
    if not rows:
        raise NotFoundError(kind.rstrip("s"), slug)
    return [_revision_item(r, with_snapshot=False) for r in rows]


def revision(session: Session, kind: str, slug: str, number: int) -> dict[str, Any]:
    """One revision with the record as the curated content held it (the reviewable YAML record)."""
    row = session.scalars(
        select(Revision)
        .where(col(Revision.record_kind) == kind, col(Revision.slug) == slug, col(Revision.version) == number)
        .order_by(col(Revision.id).desc())
        .limit(1)
    ).first()
    if row is None:
        raise ProblemError("not-found", f"No revision {number} of {kind.rstrip('s')} '{slug}'.")
    return _revision_item(row, with_snapshot=True)
