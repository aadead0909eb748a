"""Envelope building and JSON bytes: lists as {data, meta, links}, records as {data, meta}."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import Request

from app.api.hosts import HostPolicy, base_url_of
from app.errors import ProblemError
from app.services.dataset import DatasetInfo, dataset_meta

JSON_MEDIA_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


meta = dataset_meta  # the dataset `meta` of every answer (app/services/dataset.py)


def base_url(request: Request) -> str:
    """The absolute base of this request's links: ``LDNKB_PUBLIC_BASE_URL`` when set, else the request's
    scheme and Host once validated against ``LDNKB_ALLOWED_HOSTS`` (forwarded headers only from
    ``LDNKB_TRUSTED_PROXIES``): app/api/hosts.py. A Host not allowed never gets here (400 before routing)."""
    policy: HostPolicy | None = getattr(request.app.state, "hosts", None)
    resolved = base_url_of(request.scope, policy)
    if resolved is None:
        raise ProblemError("bad-request", "The Host header names a host this service does not answer for.")
    return resolved or str(request.base_url).rstrip("/")


def paging_links(request: Request, next_cursor: str | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """``links`` (self, next) of a page and the matching ``Link: <...>; rel="next"`` header.

    Read straight from the ASGI scope (the path escaped as Starlette's ``request.url`` escapes it, the query
    as sent): this runs for every page computed, and building ``request.url`` cost a tenth of a page."""
    scope = request.scope
    path: str = scope["path"]
    if "?" in path or "#" in path or "\\" in path:
        path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    self_url = f"{base_url(request)}{path}"
    raw: bytes = scope.get("query_string", b"")
    query = raw.decode()
    links: dict[str, str | None] = {"self": f"{self_url}?{query}" if query else self_url, "next": None}
    headers: dict[str, str] = {}
    if next_cursor:
        kept = _without_cursor(raw)
        # Our cursors are URL-safe base64 (nothing for urlencode to change): written as they are.
        cursor = f"cursor={next_cursor}" if _URL_SAFE.fullmatch(next_cursor) else urlencode([("cursor", next_cursor)])
        links["next"] = f"{self_url}?{kept}{'&' if kept else ''}{cursor}"
        headers["Link"] = f'<{links["next"]}>; rel="next"'
    return links, headers


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")
#: Query strings without a cursor whose every name and value is of characters urlencode keeps as they are.
_PLAIN = re.compile(rb"(?!cursor=)[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*(?:&(?!cursor=)[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*)*")
_KEPT_MEMO: dict[bytes, str] = {}
_KEPT_MEMO_MAX = 4096


def _without_cursor(raw: bytes) -> str:
    """The query's parameters but ``cursor``, encoded as the next link writes them (memoised per query)."""
    if _PLAIN.fullmatch(raw):  # name=value pairs with nothing to decode or encode: as they stand
        return raw.decode("ascii")
    kept = _KEPT_MEMO.get(raw)
    if kept is None:
        params = [(k, v) for k, v in parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if k != "cursor"]
        kept = urlencode(params)
        if len(raw) <= 1024:
            if len(_KEPT_MEMO) >= _KEPT_MEMO_MAX:
                _KEPT_MEMO.clear()
            _KEPT_MEMO[raw] = kept
    return kept


def record_body(record: dict[str, Any], info: DatasetInfo) -> bytes:
    return dumps({"data": record, "meta": _meta_json(info)})


@functools.lru_cache(maxsize=8)  # one dataset version at a time; written into every computed record answer
def _meta_json(info: DatasetInfo) -> orjson.Fragment:
    return orjson.Fragment(dumps(meta(info)))
