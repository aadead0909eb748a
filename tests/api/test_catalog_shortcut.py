"""Plain record reads answered at the front door (from the read model) and by the shortcut route
(app/api/v1/catalog_shortcut.py) are exactly the documented routes' answers.

Three apps over the same store: one as built (the front door computes plain reads), one whose front door
computes nothing (the shortcut route answers them inside the stack), one with neither (every request goes
through FastAPI's documented route). Every list and detail request below (valid ones, cursors followed,
filters, sparse fields, the cache buster, and invalid ones that must reach the documented route's errors)
gets the same status, bytes and headers from all three, and the fast paths must have answered the valid
ones. The response cache is off in all, so that every answer is computed.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.front_door import KnowledgeApp
from app.api.v1.catalog_shortcut import CatalogShortcut
from app.kinds import KINDS, Kind
from app.main import create_app
from app.settings import Settings

_COMPARED_HEADERS = ("content-type", "etag", "link", "cache-control", "content-length")


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, content_check_interval=60, access_log=False, response_cache_bytes=0)


def _shortcut(app: KnowledgeApp) -> CatalogShortcut:
    return next(r for r in app.router.routes if isinstance(r, CatalogShortcut))


class Apps:
    """The three clients, and how many reads each fast path has answered so far."""

    def __init__(self, door: TestClient, route: TestClient, documented: TestClient) -> None:
        self.door, self.route, self.documented = door, route, documented

    def fast_answers(self) -> tuple[int, int]:
        door_app: KnowledgeApp = self.door.app  # type: ignore[assignment]
        route_app: KnowledgeApp = self.route.app  # type: ignore[assignment]
        assert door_app.front_door is not None
        return door_app.front_door.computed, _shortcut(route_app).answered


@pytest.fixture(scope="module")
def apps(settings: Settings) -> Iterator[Apps]:
    door, route, documented = (create_app(settings) for _ in range(3))
    for app in (route, documented):
        assert app.front_door is not None
        app.front_door.reads = None
    documented.router.routes.remove(_shortcut(documented))
    with TestClient(door) as a, TestClient(route) as b, TestClient(documented) as c:
        yield Apps(a, b, c)


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
    "updated_since=0.5",  # pydantic alone would read a Unix time
    "updated_since=2025-01-01",  # a date without a time
    "limit=2%00",
]


def _same(apps: Apps, url: str) -> Any:
    answers = [client.get(url) for client in (apps.door, apps.route, apps.documented)]
    expected = answers[-1]
    for got in answers[:-1]:
        assert got.status_code == expected.status_code, (url, got.text[:300], expected.text[:300])
        if expected.status_code >= 400:  # problem+json: the same, but for the request id in `instance`
            left, right = got.json(), expected.json()
            left.pop("instance", None), right.pop("instance", None)
            assert left == right, url
            continue
        assert got.content == expected.content, url
        for name in _COMPARED_HEADERS:
            assert got.headers.get(name) == expected.headers.get(name), (url, name)
    return expected


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_lists_answer_as_the_documented_route(apps: Apps, kind: Kind) -> None:
    before = apps.fast_answers()
    queries = _valid_queries(kind)
    for query in queries:
        _same(apps, f"/v1/{kind.name}?{query}" if query else f"/v1/{kind.name}")
    # Every cursor of a sorted walk, in both directions.
    for sort in ("slug", f"-{kind.sort_fields[-1].name}"):
        url: str | None = f"/v1/{kind.name}?limit=2&sort={sort}"
        pages = 0
        while url is not None and pages < 30:
            response = _same(apps, url)
            url = response.json()["links"]["next"]
            pages += 1
        assert pages >= 2 or len(response.json()["data"]) <= 2
    after = apps.fast_answers()
    assert all(a - b >= len(queries) for a, b in zip(after, before, strict=True)), "a fast path did not answer"
    # A repeated parameter is left to the documented route (which takes the last value).
    _same(apps, f"/v1/{kind.name}?limit=1&limit=2")


@pytest.mark.parametrize("query", _INVALID_LISTS)
def test_invalid_list_requests_get_the_documented_errors(apps: Apps, query: str) -> None:
    response = _same(apps, f"/v1/indications?{query}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_details_answer_as_the_documented_route(apps: Apps) -> None:
    before = apps.fast_answers()
    for kind in KINDS:
        slugs = [item["slug"] for item in apps.door.get(f"/v1/{kind.name}?limit=100").json()["data"]]
        assert slugs, kind.name
        for slug in slugs:
            _same(apps, f"/v1/{kind.name}/{slug}")
        _same(apps, f"/v1/{kind.name}/{slugs[0]}?_=123")
        assert _same(apps, f"/v1/{kind.name}/no-such-record").status_code == 404
        assert _same(apps, f"/v1/{kind.name}/Not_A_Slug").status_code == 422
        assert _same(apps, f"/v1/{kind.name}/{slugs[0]}?x=1").status_code == 400
    after = apps.fast_answers()
    assert all(a - b >= 2 * len(KINDS) for a, b in zip(after, before, strict=True))


def test_computed_pages_keep_strong_tags_and_304s(apps: Apps) -> None:
    """With the cache off every page is computed: its ETag is the same on every instance for the same bytes,
    differs for other bytes, and a matching If-None-Match is a 304."""
    a, b = apps.door, apps.documented
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


def test_the_cache_buster_is_accepted_and_ignored(apps: Apps) -> None:
    """``?_=<anything>`` (jQuery's cache: false and the like) is no unknown parameter, anywhere under /v1."""
    a = apps.door
    for url in ("/v1/indications?_=1&limit=2", "/v1/regimens/low-dose-naltrexone?_=2", "/v1/search?q=pain&_=3"):
        response = a.get(url)
        assert response.status_code == 200, (url, response.text[:200])
    plain = a.get("/v1/indications?limit=2").json()
    busted = a.get("/v1/indications?_=99&limit=2").json()
    assert busted["data"] == plain["data"] and busted["meta"] == plain["meta"]
    # A misspelt parameter is still caught.
    assert a.get("/v1/indications?limt=2").status_code == 400
