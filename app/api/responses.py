"""Envelope building and JSON bytes: lists as {data, meta, links}, records as {data, meta}."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from starlette.responses import Response

from app.api.hosts import HostPolicy, base_url_of
from app.errors import ProblemError
from app.services.dataset import DISCLAIMER, LICENCE, DatasetInfo
from app.services.embeds import iso_utc
from app.services.listing import Page

JSON_MEDIA_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def meta(info: DatasetInfo) -> dict[str, Any]:
    return {
        "disclaimer": DISCLAIMER,
        "licence": LICENCE,
        "dataset_version": info.content_version,
        "last_updated": iso_utc(info.last_updated),
    }


def base_url(request: Request) -> str:
    """The absolute base of this request's links: ``LDNKB_PUBLIC_BASE_URL`` when set, else the request's
    scheme and Host once validated against ``LDNKB_ALLOWED_HOSTS`` (forwarded headers only from
    ``LDNKB_TRUSTED_PROXIES``): app/api/hosts.py. A Host not allowed never gets here (400 before routing)."""
    policy: HostPolicy | None = getattr(request.app.state, "hosts", None)
    resolved = base_url_of(request.scope, policy)
    if resolved is None:
        raise ProblemError("bad-request", "The Host header names a host this service does not answer for.")
    return resolved or str(request.base_url).rstrip("/")


def pick_fields(items: list[dict[str, Any]], fields: str | None) -> list[dict[str, Any]]:
    if not fields:
        return items
    wanted = fields.split(",")
    if items:
        unknown = [f for f in wanted if f not in items[0]]
        if unknown:
            raise ProblemError(
                "bad-request",
                f"Unknown field(s) in fields=: {', '.join(unknown)}. Available: {', '.join(items[0])}.",
                errors=[{"field": "fields", "in": "query", "message": f"unknown: {', '.join(unknown)}"}],
            )
    return [{k: item[k] for k in wanted if k in item} for item in items]


def paging_links(request: Request, next_cursor: str | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """``links`` (self, next) of a page and the matching ``Link: <...>; rel="next"`` header."""
    self_url = f"{base_url(request)}{request.url.path}"
    query = request.url.query
    links: dict[str, str | None] = {"self": f"{self_url}?{query}" if query else self_url, "next": None}
    headers: dict[str, str] = {}
    if next_cursor:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        params.append(("cursor", next_cursor))
        links["next"] = f"{self_url}?{urlencode(params)}"
        headers["Link"] = f'<{links["next"]}>; rel="next"'
    return links, headers


def list_response(
    request: Request, page: Page[dict[str, Any]], info: DatasetInfo, fields: str | None = None
) -> Response:
    links, headers = paging_links(request, page.next_cursor)
    body = {
        "data": pick_fields(page.items, fields),
        "meta": {**meta(info), "total": page.total, "count": len(page.items), "limit": page.limit},
        "links": links,
    }
    return Response(dumps(body), media_type=JSON_MEDIA_TYPE, headers=headers)


def record_body(record: dict[str, Any], info: DatasetInfo) -> bytes:
    return dumps({"data": record, "meta": meta(info)})


def record_response(record: dict[str, Any], info: DatasetInfo) -> Response:
    return Response(record_body(record, info), media_type=JSON_MEDIA_TYPE)
