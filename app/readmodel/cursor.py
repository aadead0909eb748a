"""Opaque paging cursors, signed and bound to the resource, the sort order and the filters they page.

A cursor is ``base64url(JSON [resource, sort, filters digest, sort value, slug]) "." base64url(HMAC)``. It is
checked in this order, and every failure is a 400 ``invalid-cursor`` problem, never a 500: the shape and the
signature (a tampered or invented cursor), the resource, sort and filters it was issued for (a cursor of
another list), then the position's value against the type and range of the sort field (a huge integer,
``1e300``, a timestamp that is not one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.errors import ProblemError
from app.kinds.base import SortType, SortValue

MAX_CURSOR_LENGTH = 512
_MEMO_MAX = 4096
_MAX_TEXT = 1000
_MAX_SLUG = 120
_INT_RANGE = (-(2**31), 2**31 - 1)
_DEFAULT_SECRET = b"ldn-kb cursor signing key (set LDNKB_CURSOR_SECRET to a secret of your own)"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def filters_digest(filters: Mapping[str, Any]) -> str:
    """A short digest of the filter values a page was asked with (order-independent; None means absent)."""
    canonical = sorted(
        (name, value.isoformat() if isinstance(value, datetime) else str(value))
        for name, value in filters.items()
        if value is not None
    )
    return hashlib.sha256(orjson.dumps(canonical)).hexdigest()[:16]


def _invalid(detail: str) -> ProblemError:
    return ProblemError(
        "invalid-cursor",
        detail,
        errors=[{"field": "cursor", "in": "query", "message": detail}],
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last item's sort value and slug."""

    value: SortValue
    slug: str


class CursorCodec:
    def __init__(self, secret: str = "") -> None:
        self._key = hashlib.sha256(secret.encode() if secret else _DEFAULT_SECRET).digest()
        self._memo: dict[bytes, str] = {}

    def _sign(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, "sha256")[:18]

    def _encoded(self, payload: bytes) -> str:
        """The cursor for ``payload``: a page's next cursor is the same for every request of that page, so
        it is signed once (memoised, bounded)."""
        known = self._memo.get(payload)
        if known is None:
            known = f"{_b64(payload)}.{_b64(self._sign(payload))}"
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[payload] = known
        return known

    def encode(self, resource: str, sort: str, filters: str, position: Position) -> str:
        value: Any = position.value.isoformat() if isinstance(position.value, datetime) else position.value
        return self._encoded(orjson.dumps([resource, sort, filters, value, position.slug]))

    def decode(self, cursor: str, *, resource: str, sort: str, filters: str, sort_type: SortType) -> Position:
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise _invalid("The cursor is not one this service issued; restart paging without it.")
        body, signature = cursor.split(".")
        try:
            payload, mac = _unb64(body), _unb64(signature)
        except (binascii.Error, ValueError):
            raise _invalid("The cursor is not one this service issued; restart paging without it.") from None
        if not hmac.compare_digest(mac, self._sign(payload)):
            raise _invalid("The cursor is not one this service issued (or was altered); restart paging without it.")
        try:
            decoded = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise _invalid("The cursor is malformed; restart paging without it.") from None
        if not (isinstance(decoded, list) and len(decoded) == 5):
            raise _invalid("The cursor is malformed; restart paging without it.")
        resource_in, sort_in, filters_in, value, slug = decoded
        if resource_in != resource:
            raise _invalid(f"The cursor belongs to another resource ({str(resource_in)[:40]}), not {resource}.")
        if sort_in != sort:
            raise _invalid("The cursor belongs to another sort order; restart paging without it.")
        if filters_in != filters:
            raise _invalid("The cursor belongs to other filters; restart paging without it.")
        if not isinstance(slug, str) or not 0 < len(slug) <= _MAX_SLUG:
            raise _invalid("The cursor's position is malformed.")
        checked = _checked_value(value, sort_type)
        if sort.lstrip("-") == "slug" and checked != slug:
            raise _invalid("The cursor's position is malformed.")
        return Position(checked, slug)


def _checked_value(value: Any, sort_type: SortType) -> SortValue:
    """The cursor's sort value, of the sort field's type and in its range."""
    if sort_type == "int":
        if type(value) is not int or not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            raise _invalid("The cursor's sort value is out of range.")
        return value
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise _invalid("The cursor's sort value is malformed.")
    if sort_type == "datetime":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid("The cursor's sort value is not a timestamp.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value
