"""The API index at ``/`` and ``/v1``, and the reference lists in the envelope of every other list."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from app.schemas.reference import ApiIndex, EvidenceLevelList, ProblemTypeList


def test_the_index_links_to_everything_and_every_link_answers(client: TestClient) -> None:
    body = client.get("/v1").json()
    ApiIndex.model_validate(body)
    links = body["data"]["links"]
    assert set(links["collections"]) == {
        "drugs",
        "regimens",
        "targets",
        "mechanisms",
        "conditions",
        "indications",
        "sources",
    }
    assert body["meta"]["disclaimer"] and body["meta"]["dataset_version"] >= 1
    targets = [*links["collections"].values(), *(v for k, v in links.items() if k != "collections")]
    for url in targets:
        path = urlsplit(url).path
        response = client.get(path)
        # Search, the dose check and Infobutton need their parameters: they answer a problem naming them.
        expected = {400, 422} if path in {"/v1/dose-check", "/infobutton", "/v1/search"} else {200}
        assert response.status_code in expected, (path, response.status_code)
    assert client.get("/").json()["data"]["links"] == {**links, "self": links["self"].removesuffix("/v1") + "/"}


def test_the_root_negotiates_html_for_a_browser_and_json_otherwise(client: TestClient) -> None:
    browser = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert 'href="http://testserver/v1/drugs"' in browser.text and "not medical advice" in browser.text
    for accept in ("", "*/*", "application/json", "application/json, text/html;q=0.5"):
        response = client.get("/", headers={"Accept": accept} if accept else {})
        assert response.headers["content-type"] == "application/json", accept
    assert client.get("/v1", headers={"Accept": "text/html"}).headers["content-type"] == "application/json"


def test_the_index_is_conditional(client: TestClient) -> None:
    first = client.get("/v1")
    again = client.get("/v1", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.head("/").status_code == 200


def test_reference_lists_carry_meta_and_links_like_other_lists(client: TestClient) -> None:
    for path, model in (("/v1/evidence-levels", EvidenceLevelList), ("/problems", ProblemTypeList)):
        body = client.get(path).json()
        model.model_validate(body)
        count = len(body["data"])
        assert body["meta"]["total"] == body["meta"]["count"] == count > 0
        assert body["links"] == {"self": f"http://testserver{path}", "next": None}
        assert "not medical advice" in body["meta"]["disclaimer"]
