"""Pages for people: every record has one, from the same read model as /v1, accessible and cacheable."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from app.errors import PROBLEM_MEDIA_TYPE
from app.kinds import KINDS

DISCLAIMER = "Reference information, not medical advice."


class Outline(HTMLParser):
    """Headings, landmarks, links and table header cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in: list[str] = []
        self.h1: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "h1" in self._in:
            self.h1.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)

    def links(self) -> list[str]:
        return [str(a["href"]) for t, a in self.tags if t == "a" and a.get("href")]


def _outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def _all_records(client: TestClient) -> list[tuple[str, dict[str, object]]]:
    out = []
    for kind in KINDS:
        body = client.get(f"/v1/{kind.name}", params={"limit": "100"}).json()
        out += [(kind.name, item) for item in body["data"]]
    return out


def test_every_record_has_an_accessible_page(client: TestClient) -> None:
    records = _all_records(client)
    assert len(records) > 50
    for collection, item in records:
        response = client.get(f"/pages/{collection}/{item['slug']}")
        assert response.status_code == 200, (collection, item["slug"])
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = _outline(response.text)
        assert re.search(r'<html lang="en">', response.text)
        assert page.count("h1") == 1 and "".join(page.h1).strip()
        for landmark in ("header", "nav", "main", "footer"):
            assert page.count(landmark) == 1, (landmark, collection, item["slug"])
        assert DISCLAIMER in response.text
        assert page.count("script") == 0
        for _tag, attrs in page.tags:
            if _tag == "th":
                assert attrs.get("scope") in {"col", "row"}
        title = str(item.get("name") or item.get("title") or "")
        if title:
            assert title in "".join(page.h1), (collection, item["slug"])


def test_links_between_pages_resolve(client: TestClient) -> None:
    seen: set[str] = set()
    for path in ["/pages/", "/pages/regimens/low-dose-naltrexone", "/pages/indications"]:
        for href in _outline(client.get(path).text).links():
            if href.startswith("/pages/") and href not in seen:
                seen.add(href)
                assert client.get(href).status_code == 200, href
    assert len(seen) > 20


def test_a_regimen_page_shows_each_sources_range_with_its_verification(client: TestClient) -> None:
    regimen = client.get("/v1/regimens/oral-naltrexone-addiction").json()["data"]
    text = html.unescape(client.get("/pages/regimens/oral-naltrexone-addiction").text)
    for rng in regimen["dose_ranges"]:
        assert rng["source"]["title"] in text and rng["verification"] in text
    assert "article-claim (the article's claim only; documents nothing)" in text
    for warning in regimen["warnings"]:
        assert warning["title"] in text
        for statement in warning.get("statements", []):
            assert statement["text"] in text


def test_an_indication_page_shows_evidence_and_its_direction(client: TestClient) -> None:
    items = client.get("/v1/indications", params={"limit": "100"}).json()["data"]
    for item in items:
        text = client.get(f"/pages/indications/{item['slug']}").text
        assert '<h2 id="evidence">Evidence</h2>' in text
        assert "Direction</dt>" in text


def test_unknown_collection_or_slug_is_a_problem(client: TestClient) -> None:
    for path in ["/pages/widgets", "/pages/widgets/x", "/pages/regimens/no-such-regimen"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_pages_are_cacheable_and_load_only_their_stylesheet(client: TestClient) -> None:
    first = client.get("/pages/regimens/low-dose-naltrexone")
    etag = first.headers["etag"]
    assert etag.startswith('"') and "max-age" in first.headers["cache-control"]
    again = client.get("/pages/regimens/low-dose-naltrexone", headers={"If-None-Match": etag})
    assert again.status_code == 304
    csp = first.headers["content-security-policy"]
    assert "style-src 'self'" in csp and "script-src" not in csp
    assert '<link rel="stylesheet" href="/pages/static/pages.css">' in first.text
    css = client.get("/pages/static/pages.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    head = client.head("/pages/regimens/low-dose-naltrexone")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
