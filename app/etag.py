"""Strong ETags: the SHA-256 of a representation's bytes, so the same bytes have the same tag in every process."""

from __future__ import annotations

import hashlib


def strong_etag(body: bytes) -> bytes:
    """``"<first 32 hex digits of the body's SHA-256>"``."""
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
