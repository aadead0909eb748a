"""The documented 200 (and 304) responses of the read routes, merged with their problem responses.

The routes send prebuilt bytes for speed; these entries only describe them in the OpenAPI document:
the public model, a real example, and the caching headers every GET answers with.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.schemas.examples import example_if_any

CACHE_HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "Strong validator of this representation (the same bytes give the same tag on every "
        "instance); send it back in `If-None-Match` to get a 304.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "Freshness for browsers and CDNs, e.g. `public, max-age=300, stale-while-revalidate=3600` "
        "(set by LDNKB_CACHE_MAX_AGE and LDNKB_CACHE_STALE_WHILE_REVALIDATE).",
        "schema": {"type": "string"},
    },
}
LINK_HEADER: dict[str, Any] = {
    "Link": {
        "description": 'The next page, `<https://...>; rel="next"`, when there is one (same URL as `links.next`).',
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED: dict[str, Any] = {
    "description": "Not modified: `If-None-Match` matched the current ETag. No body; ETag and Cache-Control repeat.",
    "headers": CACHE_HEADERS,
}


def _with_example(name: str) -> dict[str, Any]:
    found = example_if_any(name)
    return {} if found is None else {"example": found}


def ok(model: type[BaseModel], description: str, example_name: str, *, paged: bool = False) -> dict[int | str, Any]:
    """The 200 and 304 entries of a GET operation's ``responses=``."""
    headers = {**CACHE_HEADERS, **LINK_HEADER} if paged else CACHE_HEADERS
    return {
        200: {
            "model": model,
            "description": description,
            "headers": headers,
            "content": {"application/json": _with_example(example_name)},
        },
        304: NOT_MODIFIED,
    }
