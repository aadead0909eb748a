"""What a request says about its body, read one way everywhere: the front door's shortcuts, the request
guard and the content negotiation of the stack (``app/api/shortcuts.py``, ``app/api/limits.py``,
``app/api/negotiation.py``).

A JSON body is one ``Content-Type`` of ``application/json`` (or ``application/*+json``), parameters such as
charset aside, and no content coding. Two ``Content-Type`` headers are refused whatever they say (a
recipient reading the first and another reading the last would answer the same request differently), and
so is a coded body (``Content-Encoding: gzip``): this service reads bodies as sent.
"""

from __future__ import annotations

from typing import Final

_JSON: Final = b"application/json"

JSON_BODY_PREFIXES: Final = ("/v1/", "/cds-services/")
"""Paths whose POST bodies must be JSON (415 otherwise, from ``app/api/negotiation.py``)."""


def declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request says it carries a body (a Content-Length other than 0, or Transfer-Encoding)."""
    return any(
        (name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding"
        for name, value in headers
    )


def refuses_body(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the stack will answer 415 without reading the body: the request guard then leaves the body
    unread (no ``100 Continue`` for a body that is refused anyway)."""
    return (
        method == "POST"
        and path.startswith(JSON_BODY_PREFIXES)
        and body_refusal(headers, has_body=declares_body(headers)) is not None
    )


def content_types(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Every ``Content-Type`` value of the request, in order."""
    return [value for name, value in headers if name == b"content-type"]


def content_codings(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """The content codings applied to the body (``Content-Encoding``), ``identity`` left out."""
    codings = (c.strip().lower() for name, value in headers if name == b"content-encoding" for c in value.split(b","))
    return [c for c in codings if c and c != b"identity"]


def media_type(content_type: bytes) -> bytes:
    """The media type of a ``Content-Type`` value, lower case, parameters left out."""
    return content_type.split(b";", 1)[0].strip().lower()


def is_json_media(content_type: bytes) -> bool:
    """application/json or any application/*+json, parameters (charset) ignored."""
    media = media_type(content_type)
    return media == _JSON or (media.startswith(b"application/") and media.endswith(b"+json"))


def body_refusal(headers: list[tuple[bytes, bytes]], *, has_body: bool) -> str | None:
    """Why a body that must be JSON is refused (the end of "takes application/json, ..."), or ``None``."""
    types = content_types(headers)
    if len(types) > 1:
        return f"in one Content-Type header, not {len(types)}"
    codings = content_codings(headers)
    if codings:
        return f"as sent, not with Content-Encoding {b', '.join(codings).decode('latin-1')}"
    if types and not is_json_media(types[0]):
        return f"not {types[0].decode('latin-1')}"
    if not types and has_body:
        return "not a body without Content-Type"
    return None


def plain_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the body is plain ``application/json`` (the shortcuts' case; all else goes to the stack)."""
    types = content_types(headers)
    return len(types) == 1 and media_type(types[0]) == _JSON and not content_codings(headers)
