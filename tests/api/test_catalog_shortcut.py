"""The record-read shortcut (app/api/v1/catalog_shortcut.py) answers exactly as the documented routes do.

Two apps over the same store: one as built, one with the shortcut taken out of its router, so that every
request there goes through FastAPI's documented route. Every list and detail request below (valid ones,
cursors followed, filters, sparse fields, the cache buster, and invalid ones that must reach the documented
route's errors) gets byte-identical answers from both, and the shortcut must have answered the valid ones.
The response cache is off in both, so that every answer is computed.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.v1.catalog_shortcut import CatalogShortcut
from app.kinds import KINDS, Kind
from app.main import create_app
from app.settings import Settings

_COMPARED_HEADERS = ("content-type", "etag", "link", "cache-control", "content-length")


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, content_check_interval=60, access_log=False, response_cache_bytes=0)


def _shortcut(app: FastAPI) -> CatalogShortcut:
    return next(r for r in app.router.routes if isinstance(r, CatalogShortcut))


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient, CatalogShortcut]]:
    fast = create_app(settings)
    documented = create_app(settings)
    documented.router.routes.remove(_shortcut(documented))
    with TestClient(fast) as a, TestClient(documented) as b:
        yield a, b, _shortcut(fast)


def _enum_values(annotation: Any) -> list[str]:
    """The members of the enum inside ``Annotated[Enum | None, Query(...)]`` (empty for a text filter)."""
    for arg in typing.get_args(typing.get_args(annotation)[0]):
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            return [str(m.value) for m in arg]
    return []


def _valid_queries(kind: Kind) -> list[str]:
    queries = ["", "limit=3", "limit=007", "limit=100", "_=1700000000&limit=2", "fields=slug,name", "fields=slug"]
    queries += [f"sort={s.value}&limit=4" for s in kind.sort_enum]
    queries += ["updated_since=2000-01-01T00:00:00Z", "updated_since=2999-01-01T00:00:00%2B02:00"]
    for f in kind.filters:
        values = _enum_values(f.annotation) or ["low-dose-naltrexone", "TLR4", ""]
        queries += [f"{f.name}={v}" for v in values]
    return queries


_INVALID_LISTS = [
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=%D9%A3",  # an Arabic-Indic digit
    "sort=bogus",
    "cursor=garbage",
    "unknown=1",
    "fields=slug,not_a_field",
    "fields=Slug",
    "updated_since=yesterday",
    "limit=2%00",
]


def _same(a: TestClient, b: TestClient, url: str) -> Any:
    fast, slow = a.get(url), b.get(url)
    assert fast.status_code == slow.status_code, (url, fast.text[:300], slow.text[:300])
    if fast.status_code >= 400:  # problem+json: the same, but for the request id in `instance`
        left, right = fast.json(), slow.json()
        left.pop("instance", None), right.pop("instance", None)
        assert left == right, url
        return fast
    assert fast.content == slow.content, url
    for name in _COMPARED_HEADERS:
        assert fast.headers.get(name) == slow.headers.get(name), (url, name)
    return fast


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_lists_answer_as_the_documented_route(
    clients: tuple[TestClient, TestClient, CatalogShortcut], kind: Kind
) -> None:
    a, b, shortcut = clients
    before = shortcut.answered
    queries = _valid_queries(kind)
    for query in queries:
        _same(a, b, f"/v1/{kind.name}?{query}" if query else f"/v1/{kind.name}")
    # Every cursor of a sorted walk, in both directions.
    for sort in ("slug", f"-{kind.sort_fields[-1].name}"):
        url: str | None = f"/v1/{kind.name}?limit=2&sort={sort}"
        pages = 0
        while url is not None and pages < 30:
            response = _same(a, b, url)
            url = response.json()["links"]["next"]
            pages += 1
        assert pages >= 2 or len(response.json()["data"]) <= 2
    assert shortcut.answered - before >= len(queries), "the shortcut did not answer the plain requests"
    # A repeated parameter is left to the documented route (which takes the last value).
    _same(a, b, f"/v1/{kind.name}?limit=1&limit=2")


@pytest.mark.parametrize("query", _INVALID_LISTS)
def test_invalid_list_requests_get_the_documented_errors(
    clients: tuple[TestClient, TestClient, CatalogShortcut], query: str
) -> None:
    a, b, _ = clients
    response = _same(a, b, f"/v1/indications?{query}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_details_answer_as_the_documented_route(clients: tuple[TestClient, TestClient, CatalogShortcut]) -> None:
    a, b, shortcut = clients
    before = shortcut.answered
    for kind in KINDS:
        slugs = [item["slug"] for item in a.get(f"/v1/{kind.name}?limit=100").json()["data"]]
        assert slugs, kind.name
        for slug in slugs:
            _same(a, b, f"/v1/{kind.name}/{slug}")
        _same(a, b, f"/v1/{kind.name}/{slugs[0]}?_=123")
        assert _same(a, b, f"/v1/{kind.name}/no-such-record").status_code == 404
        assert _same(a, b, f"/v1/{kind.name}/Not_A_Slug").status_code == 422
        assert _same(a, b, f"/v1/{kind.name}/{slugs[0]}?x=1").status_code == 400
    assert shortcut.answered - before >= sum(1 for _ in KINDS) * 2


def test_computed_pages_keep_strong_tags_and_304s(clients: tuple[TestClient, TestClient, CatalogShortcut]) -> None:
    """With the cache off every page is computed: its ETag is the same on every instance for the same bytes,
    differs for other bytes, and a matching If-None-Match is a 304."""
    a, b, _ = clients
    two, three = a.get("/v1/indications?limit=2"), a.get("/v1/indications?limit=3")
    tag = two.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert tag == b.get("/v1/indications?limit=2").headers["etag"]
    assert tag != three.headers["etag"]
    assert a.get("/v1/indications?limit=2", headers={"If-None-Match": tag}).status_code == 304
    detail = a.get("/v1/regimens/low-dose-naltrexone")
    assert (
        a.get("/v1/regimens/low-dose-naltrexone", headers={"If-None-Match": detail.headers["etag"]}).status_code == 304
    )


def test_the_cache_buster_is_accepted_and_ignored(clients: tuple[TestClient, TestClient, CatalogShortcut]) -> None:
    """``?_=<anything>`` (jQuery's cache: false and the like) is no unknown parameter, anywhere under /v1."""
    a, _, _ = clients
    for url in ("/v1/indications?_=1&limit=2", "/v1/regimens/low-dose-naltrexone?_=2", "/v1/search?q=pain&_=3"):
        response = a.get(url)
        assert response.status_code == 200, (url, response.text[:200])
    plain = a.get("/v1/indications?limit=2").json()
    busted = a.get("/v1/indications?_=99&limit=2").json()
    assert busted["data"] == plain["data"] and busted["meta"] == plain["meta"]
    # A misspelt parameter is still caught.
    assert a.get("/v1/indications?limt=2").status_code == 400
