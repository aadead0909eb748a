"""Browsers that ask a record's /v1 URL for HTML (and not JSON) are sent to its page with a 303."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.pages.redirect import prefers_html
from app.api.v1.meta import COLLECTIONS

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browsers_asking_a_record_url_are_sent_to_its_page(client: TestClient) -> None:
    for kind in COLLECTIONS:
        slug = client.get(f"/v1/{kind}?limit=1").json()["data"][0]["slug"]
        for accept in (BROWSER_ACCEPT, "text/html"):
            response = client.get(f"/v1/{kind}/{slug}", headers={"Accept": accept}, follow_redirects=False)
            assert response.status_code == 303, (kind, accept)
            assert response.headers["location"] == f"/pages/{kind}/{slug}"
            assert "accept" in response.headers["vary"].lower()
        followed = client.get(f"/v1/{kind}/{slug}", headers={"Accept": BROWSER_ACCEPT})
        assert followed.status_code == 200 and followed.headers["content-type"].startswith("text/html")
    head = client.head("/v1/drugs/naltrexone", headers={"Accept": "text/html"}, follow_redirects=False)
    assert head.status_code == 303 and head.headers["location"] == "/pages/drugs/naltrexone"


@pytest.mark.parametrize(
    "accept",
    ["application/json", "*/*", "", "application/json, text/html;q=0.5", "text/html;q=0.5, application/json"],
)
def test_json_clients_still_get_json_and_caches_key_on_accept(client: TestClient, accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    for _ in range(2):  # the second answer comes from the response cache
        response = client.get("/v1/drugs/naltrexone", headers=headers, follow_redirects=False)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json", accept
        assert response.json()["data"]["slug"] == "naltrexone"
        assert "accept" in response.headers["vary"].lower()


def test_a_cached_json_answer_does_not_hide_the_redirect(client: TestClient) -> None:
    assert client.get("/v1/drugs/naltrexone").status_code == 200
    assert client.get("/v1/drugs/naltrexone").status_code == 200
    response = client.get("/v1/drugs/naltrexone", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303


def test_lists_and_other_paths_are_not_redirected(client: TestClient) -> None:
    for path in ("/v1/drugs", "/v1/changes", "/v1/drugs/naltrexone/revisions"):
        response = client.get(path, headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
        assert response.status_code != 303, path
    missing = client.get("/v1/drugs/Not_A_Slug", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
    assert missing.status_code != 303


def test_html_preference_follows_rfc_9110_qualities() -> None:
    assert prefers_html(BROWSER_ACCEPT)
    assert prefers_html("text/html")
    assert not prefers_html("application/json, text/html")
    assert not prefers_html("text/html;q=0, */*")
    assert not prefers_html("*/*")
    assert not prefers_html("")
