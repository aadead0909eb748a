"""FHIR, Infobutton and search answer from the app's read model, on both stores: no query once the model is
built, the same answers while the store is gone (readiness reports the outage), and the same documents and
code matches as the store's own derived data."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from app.content.files import read_dataset
from app.domain.search_index import Document
from app.domain.vocabulary import CODE_SYSTEM_OIDS
from app.main import create_app
from app.models import Indication, SearchDocument
from app.services.conditions import condition_ids_for_code
from app.services.knowledge import knowledge_for_code
from app.services.search import documents
from app.settings import Settings
from tests.conftest import PG_ENV, QueryCounter, _drop_postgres, _fresh_postgres

DATASET = read_dataset()
FHIR = "/fhir/R4"
MK = f"{FHIR}/MedicationKnowledge"
ASYNC = {"Prefer": "respond-async"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEFINITIONS = ("StructureDefinition", "CodeSystem", "ValueSet")
NOW = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00")


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    """A production-like check interval (the store is only looked at by the background watcher), and no
    response cache: every answer is computed."""
    return Settings(database_url=database_url, content_check_interval=60, access_log=False, response_cache_bytes=0)


def _codes() -> list[tuple[str, str | None]]:
    """Every condition code and RxNorm code of the dataset, an ICD-10-CM child of a header, one we do not hold."""
    out: list[tuple[str, str | None]] = [(k.code, k.system) for c in DATASET.conditions for k in c.codes]
    out += [(i.value, "rxnorm") for d in DATASET.drugs for i in d.identifiers if i.system == "rxnorm"]
    out += [("K50.90", "icd-10-cm"), ("X99", "icd-10-cm")]
    return out


def _infobutton_urls() -> list[str]:
    urls = []
    for code, system in _codes():
        base = f"/infobutton?mainSearchCriteria.v.c={code}"
        urls += [base, f"{base}&knowledgeResponseType=application/json&age.v.v=10"]
        if system:
            urls.append(f"{base}&mainSearchCriteria.v.cs={CODE_SYSTEM_OIDS[system]}&informationRecipient=PAT")
    return urls


def _get_urls(client: TestClient) -> list[str]:
    """Every kind of FHIR read and search, Infobutton request and search: the GETs to compare."""
    bundle = client.get(MK, params={"_count": "100"}).json()
    ids = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert ids
    urls = [f"{FHIR}/metadata", MK, f"{MK}?code=7243&_summary=true", f"{MK}?_sort=-_lastUpdated&_count=2&_offset=1"]
    urls += [f"{MK}/_history", f"{MK}/_history?_since=2000-01-01T00:00:00Z&_count=2"]
    for ident in ids:
        version = client.get(f"{MK}/{ident}").json()["meta"]["versionId"]
        urls += [f"{MK}/{ident}", f"{MK}/{ident}?_elements=code", f"{MK}/{ident}/_history"]
        urls.append(f"{MK}/{ident}/_history/{version}")
    for kind in DEFINITIONS:
        found = client.get(f"{FHIR}/{kind}").json()
        urls.append(f"{FHIR}/{kind}?_summary=true")
        urls += [f"{FHIR}/{kind}/{e['resource']['id']}" for e in found["entry"] if e["search"]["mode"] == "match"]
    urls += _infobutton_urls()
    cursor = client.get("/v1/search", params={"q": "naltrexone", "limit": "2"}).json()["links"]["next"]
    urls += ["/v1/search?q=LDN", "/v1/search?q=fibro&kind=indications", "/v1/search?q=M79.7", cursor]
    return urls


def _export(client: TestClient) -> list[str]:
    """The status URL and output URLs of a fresh system-level export."""
    kicked = client.get(f"{FHIR}/$export", headers=ASYNC)
    assert kicked.status_code == 202, kicked.text
    status = kicked.headers["content-location"]
    manifest = client.get(status).json()
    assert manifest["output"]
    return [status, *(o["url"] for o in manifest["output"])]


def _answers(client: TestClient, urls: list[str]) -> dict[str, tuple[int, bytes]]:
    out = {}
    for url in urls:
        response = client.get(url)
        out[url] = (response.status_code, response.content)
    searched = client.post(f"{MK}/_search", content="code=7243&_count=3", headers=FORM)
    out["POST _search"] = (searched.status_code, searched.content)
    return out


def _without_clock(body: bytes) -> bytes:
    """An empty Infobutton feed is dated now (``datetime.now(UTC).isoformat()``): leave that time out."""
    return NOW.sub(b"now", body)


# ------------------------------------------------------------------------- no query once the model is built


def test_fhir_infobutton_and_search_run_no_query(app: FastAPI, client: TestClient) -> None:
    urls = _get_urls(client)  # the model, the FHIR catalogue and the search index are built meanwhile
    exported = _export(client)
    before = app.state.read_model.current()
    records = {name: orjson.dumps(before.records(name)) for name in before.collections}
    with QueryCounter(app.state.engine) as counter:
        answers = _answers(client, [*urls, *exported])
        assert client.get(f"{FHIR}/$export", headers=ASYNC).status_code == 202
        assert client.delete(exported[0]).status_code == 202
    assert counter.count == 0, counter.statements
    assert all(status == 200 for status, _ in answers.values()), [u for u, (s, _) in answers.items() if s != 200]
    # what the integrations map is the model's own records: nothing of them was changed by the mapping
    assert app.state.read_model.current() is before
    assert {name: orjson.dumps(before.records(name)) for name in before.collections} == records


# ------------------------------------------------------------------------- the store goes away


@pytest.fixture
def own_store(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(URL, PostgreSQL database name or "") of a store this test may destroy."""
    base = os.environ.get(PG_ENV, "")
    if database_url.startswith("postgresql"):
        url, name = _fresh_postgres(base)
        try:
            yield url, name
        finally:
            _drop_postgres(base, name)
    else:
        yield f"sqlite:///{tmp_path / 'gone.sqlite3'}", ""


def _destroy(app: FastAPI, url: str, name: str) -> None:
    app.state.engine.dispose()
    if name:
        _drop_postgres(os.environ.get(PG_ENV, ""), name)
        return
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)


def test_fhir_infobutton_and_search_answer_while_the_store_is_unreachable(own_store: tuple[str, str]) -> None:
    url, name = own_store
    app = create_app(Settings(database_url=url, content_check_interval=0.05, access_log=False, response_cache_bytes=0))
    with TestClient(app) as client:
        urls = _get_urls(client)
        exported = _export(client)
        before = _answers(client, [*urls, *exported])
        assert all(status == 200 for status, _ in before.values())
        assert client.get("/readyz").status_code == 200
        _destroy(app, url, name)
        time.sleep(0.2)  # the watcher fails a few times meanwhile
        assert client.get("/readyz").status_code == 503  # the store is really gone
        after = _answers(client, [*urls, *exported])
        for key, (status, body) in before.items():
            assert after[key][0] == status == 200, key
            assert _without_clock(after[key][1]) == _without_clock(body), key
        # a new export, and a search never asked before, are answered from memory too
        assert _export(client)
        fresh = client.get("/v1/search", params={"q": "toll-like receptor"})
        assert fresh.status_code == 200 and fresh.json()["data"]


# ------------------------------------------------------------------------- the same as the store's derived data


def test_search_documents_of_the_model_are_the_stored_ones(app: FastAPI, client: TestClient) -> None:
    """The index is built from the model's search sources; the loader fills ``search_document`` from the
    tables, with the same document function: both give every record the same document."""
    model = app.state.read_model.current()
    mine = {(d.kind, d.slug): d for d in documents(model.search_sources)}
    with Session(app.state.engine) as session:
        rows = session.scalars(select(SearchDocument)).all()
        stored = {(r.kind, r.slug): Document(r.kind, r.slug, r.title, r.labels, r.codes, r.body, r.terms) for r in rows}
    assert len(mine) == len(model.search_sources) == len(stored)
    assert mine == stored


def test_infobutton_matches_codes_as_the_store_does(app: FastAPI, client: TestClient) -> None:
    """Conditions by code from memory (with ICD-10-CM headers) match what the store's code lookup selects."""
    model = app.state.read_model.current()
    with Session(app.state.engine) as session:
        for code, system in _codes():
            if system == "rxnorm":
                continue
            for asked in (system, None):
                statement = select(col(Indication.slug)).where(
                    col(Indication.condition_id).in_(condition_ids_for_code(code, asked))
                )
                expected = sorted(session.scalars(statement).all())
                got = [e.slug for e in knowledge_for_code(model, code=code, system=asked) if e.kind == "indications"]
                assert got == expected, (code, asked)
    held = [e for e in knowledge_for_code(model, code="M79.7", system="icd-10-cm")]
    assert held and all(e.kind == "indications" for e in held)
    regimens: list[Any] = knowledge_for_code(model, code="7243", system="rxnorm")
    assert [e.slug for e in regimens] == sorted(r.slug for r in DATASET.regimens if r.drug == "naltrexone")
