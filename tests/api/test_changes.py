"""The changes feed, revisions and bulk export: a client that replays the feed ends with the export.

One module, one store: the first tests read version 1; then a new content version with an update, a
create and a delete is loaded, and the feed, the revisions, ``updated_since`` and the export are checked.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.content.schema import Dataset
from app.errors import PROBLEM_MEDIA_TYPE
from app.kinds import KINDS

DATASET = read_dataset()


def _feed(client: TestClient, **params: str) -> list[dict[str, Any]]:
    """Every change from ``since`` on, following links.next with a small page size."""
    out: list[dict[str, Any]] = []
    url: str | None = "/v1/changes"
    query: dict[str, str] | None = {"limit": "7", **params}
    while url:
        body = client.get(url, params=query).json()
        out += body["data"]
        url, query = body["links"]["next"], None
    return out


def _replay(
    changes: list[dict[str, Any]], copy: dict[tuple[str, str], str] | None = None
) -> dict[tuple[str, str], str]:
    copy = dict(copy or {})
    for c in changes:
        key = (c["kind"], c["slug"])
        if c["change"] == "delete":
            copy.pop(key, None)
        else:
            copy[key] = c["etag"]
    return copy


def _export(client: TestClient) -> dict[tuple[str, str], str]:
    manifest = client.get("/v1/export").json()["data"]
    out: dict[tuple[str, str], str] = {}
    for f in manifest["files"]:
        raw = client.get(f["url"]).content
        assert hashlib.sha256(raw).hexdigest() == f["sha256"]
        lines = gzip.decompress(raw).splitlines()
        assert len(lines) == f["count"]
        for line in lines:
            slug = orjson.loads(line)["slug"]
            out[(f["kind"], slug)] = '"' + hashlib.sha256(line).hexdigest()[:32] + '"'
    return out


def _problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_first_version_lists_every_record_as_created(client: TestClient) -> None:
    changes = _feed(client)
    assert {c["change"] for c in changes} == {"create"}
    assert {c["content_version"] for c in changes} == {1}
    assert _replay(changes) == _export(client)
    total = sum(client.get(f"/v1/{k.name}", params={"limit": "1"}).json()["meta"]["total"] for k in KINDS)
    assert len(changes) == total


def test_export_lines_are_the_records_the_api_serves(client: TestClient) -> None:
    manifest = client.get("/v1/export").json()["data"]
    regimens = next(f for f in manifest["files"] if f["kind"] == "regimens")
    for line in gzip.decompress(client.get(regimens["url"]).content).splitlines():
        record = orjson.loads(line)
        assert client.get(f"/v1/regimens/{record['slug']}").json()["data"] == record
    response = client.get(regimens["url"])
    assert response.headers["content-type"] == "application/gzip"
    assert client.get(regimens["url"], headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    _problem(client.get("/v1/export/widgets.ndjson.gz"), 404)


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"since": "9" * 20},
        {"kind": "widgets"},
        {"limit": "0"},
        {"limit": "100000"},
    ],
)
def test_bad_feed_parameters_are_problems(client: TestClient, params: dict[str, str]) -> None:
    _problem(client.get("/v1/changes", params=params), 400 if "limit" not in params else 422)


def test_revision_routes_take_no_hidden_parameter(client: TestClient, app: FastAPI) -> None:
    """The kind of a revision route is fixed by its path: ``?_name=`` (once published from a defaulted
    argument, and able to switch the kind) is an unknown parameter."""
    for path in ("/v1/drugs/{slug}/revisions", "/v1/drugs/{slug}/revisions/{number}"):
        declared = [p["name"] for p in app.openapi()["paths"][path]["get"]["parameters"]]
        assert "_name" not in declared, declared
    response = client.get("/v1/drugs/naltrexone/revisions", params={"_name": "regimens"})
    assert response.status_code == 400 and response.json()["type"] == "/problems/unknown-parameter"


def test_a_cursor_is_bound_to_its_filters(client: TestClient) -> None:
    nxt = client.get("/v1/changes", params={"limit": "2", "kind": "regimens"}).json()["links"]["next"]
    cursor = nxt.split("cursor=")[1]
    _problem(client.get("/v1/changes", params={"limit": "2", "kind": "sources", "cursor": cursor}), 400)


def _next_version(dataset: Dataset) -> tuple[Dataset, str]:
    """An update (a regimen's summary), a create (a new source) and a delete (a mechanism)."""
    regimens = [
        r.model_copy(update={"plain_summary": r.plain_summary + " [edited]"})
        if r.slug == "very-low-dose-naltrexone"
        else r
        for r in dataset.regimens
    ]
    gone = dataset.mechanisms[-1].slug
    created = dataset.sources[0].model_copy(
        update={"slug": "test-created-source", "title": "A source created by the test"}
    )
    changed = dataset.model_copy(
        update={
            "regimens": regimens,
            "sources": [*dataset.sources, created],
            "mechanisms": [m for m in dataset.mechanisms if m.slug != gone],
        }
    )
    return changed, gone


def test_a_new_version_with_an_update_a_create_and_a_delete(client: TestClient, app: FastAPI) -> None:
    before = _feed(client)
    copy = _replay(before)
    v1 = client.get("/v1/changes").json()["meta"]["latest_version"]
    first_update = client.get("/v1/regimens/very-low-dose-naltrexone").json()["data"]["updated_at"]

    changed, gone = _next_version(DATASET)
    with Session(app.state.engine) as session:
        report = load_dataset(session, changed)
    v2 = report.content_version
    assert v2 == v1 + 1

    new = _feed(client, since=str(v1))
    assert {c["content_version"] for c in new} == {v2}
    by_key = {(c["kind"], c["slug"]): c for c in new}
    assert by_key[("regimens", "very-low-dose-naltrexone")]["change"] == "update"
    assert by_key[("sources", "test-created-source")]["change"] == "create"
    assert by_key[("mechanisms", gone)]["change"] == "delete" and by_key[("mechanisms", gone)]["etag"] is None
    # Only what moved: the unchanged records are not listed again.
    assert len(new) < len(before) / 2

    # A client that read version 1 and then the new changes holds exactly the export.
    assert _replay(new, copy) == _export(client)
    assert _replay(_feed(client)) == _export(client)
    # since= a timestamp: the new load's changes and nothing older.
    at = new[0]["changed_at"]
    assert {c["content_version"] for c in _feed(client, since=first_update)} == {v2}
    assert _feed(client, since=at) == []

    # Revisions: the update is the regimen's version 2 with the edited content; the delete outlives the record.
    revisions = client.get("/v1/regimens/very-low-dose-naltrexone/revisions").json()["data"]
    assert [(r["version"], r["change"]) for r in revisions] == [(1, "create"), (2, "update")]
    second = client.get("/v1/regimens/very-low-dose-naltrexone/revisions/2").json()["data"]
    assert second["record"]["plain_summary"].endswith("[edited]")
    deleted = client.get(f"/v1/mechanisms/{gone}/revisions").json()["data"]
    assert [r["change"] for r in deleted] == ["create", "delete"]
    assert client.get(f"/v1/mechanisms/{gone}").status_code == 404
    # The mechanism's target embeds its mechanisms: its representation moved, so it is listed as updated.
    target = next(m.target for m in DATASET.mechanisms if m.slug == gone)
    assert by_key[("targets", target)]["change"] == "update"
    _problem(client.get("/v1/regimens/very-low-dose-naltrexone/revisions/9"), 404)
    _problem(client.get("/v1/regimens/no-such-regimen/revisions"), 404)
