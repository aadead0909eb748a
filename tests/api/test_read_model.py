"""The read model over the real app, on both stores: answers from memory with no query, a version swap that
never mixes versions under concurrent reads, reads while the store is gone, two apps over two stores in
one process, cursors that cannot be abused, and ``updated_since``."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.read_model import ReadModelDep
from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.content.schema import Dataset
from app.errors import PROBLEM_MEDIA_TYPE
from app.kinds import KINDS
from app.main import create_app
from app.readmodel.cursor import CursorCodec, Position, filters_digest
from app.settings import Settings
from tests.conftest import PG_ENV, QueryCounter, _drop_postgres, _fresh_postgres

DATASET = read_dataset()


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    """A production-like check interval: the store is only looked at by the background watcher."""
    return Settings(database_url=database_url, content_check_interval=60, access_log=False)


def _edited(dataset: Dataset, marker: str) -> Dataset:
    """The dataset with ``marker`` appended to every regimen's and drug's clinical summary."""
    return dataset.model_copy(
        update={
            "regimens": [
                r.model_copy(update={"clinical_summary": r.clinical_summary + marker}) for r in dataset.regimens
            ],
            "drugs": [d.model_copy(update={"clinical_summary": d.clinical_summary + marker}) for d in dataset.drugs],
        }
    )


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}" and body["detail"]
    return body


def _cursor(client: TestClient, path: str, **params: str) -> str:
    nxt = client.get(path, params={"limit": "1", **params}).json()["links"]["next"]
    assert nxt, path
    return str(nxt.split("cursor=")[1].split("&")[0])


# ------------------------------------------------------------------------- no query per request


def test_lists_filters_sorts_paging_and_details_run_no_query(client: TestClient, count_queries: QueryCounter) -> None:
    client.get("/v1/indications")  # started and built
    urls = [
        "/v1/indications?limit=5&sort=-evidence_level",
        "/v1/indications?status=off-label&code=M79.7",
        "/v1/mechanisms?target=TLR4&sort=name",
        "/v1/conditions?code=K50.90",
        "/v1/sources?sort=-year&limit=3",
        "/v1/regimens?updated_since=2000-01-01T00:00:00Z&fields=slug,name",
        "/v1/regimens/low-dose-naltrexone",
        "/v1/drugs/naltrexone",
        "/v1/indications/no-such-record",
    ]
    with count_queries as counter:
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 404), (url, response.text)
        pages = 0
        url = "/v1/indications?limit=4&sort=-updated_at"
        while url:
            body = client.get(url).json()
            pages += 1
            url = body["links"]["next"]
    assert pages > 1
    assert counter.count == 0, counter.statements


def test_every_kind_is_answered_from_the_model(client: TestClient, app: Any) -> None:
    model = app.state.read_model.current()
    for kind in KINDS:
        collection = model.collection(kind.name)
        body = client.get(f"/v1/{kind.name}", params={"limit": "100"}).json()
        assert [i["slug"] for i in body["data"]] == [r["slug"] for r in collection.records]
        slug = collection.records[0]["slug"]
        assert client.get(f"/v1/{kind.name}/{slug}").content == collection.detail(slug)


# ------------------------------------------------------------------------- cursors (issue 13 row 4)


def test_crafted_cursors_are_400_never_500(client: TestClient) -> None:
    legacy = "WyJ5ZWFyIiwxODQ0Njc0NDA3MzcwOTU1MTYxNiwiYSJd"  # ["year", 18446744073709551616, "a"], as reported
    _problem(client.get("/v1/sources", params={"sort": "year", "cursor": legacy}), 400, "invalid-cursor")
    for value in (1e300, 10**30, -(10**30), "1e300", None, [1], {"a": 1}, True):
        raw = base64.urlsafe_b64encode(json.dumps(["evidence_level", value, "a"]).encode()).decode()
        for kind in ("mechanisms", "indications"):
            response = client.get(f"/v1/{kind}", params={"sort": "evidence_level", "cursor": raw})
            _problem(response, 400, "invalid-cursor")
    for garbage in ("x", ".", "a.b", "!!!.???", "e30." + "A" * 24, "a" * 512, "a" * 513):
        response = client.get("/v1/sources", params={"cursor": garbage})
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_a_cursor_is_bound_to_its_resource_sort_and_filters(client: TestClient) -> None:
    sources = _cursor(client, "/v1/sources", sort="year")
    body = _problem(client.get("/v1/conditions", params={"sort": "year", "cursor": sources}), 400, "bad-request")
    assert "sort" in body["detail"]  # conditions have no year: the sort itself is refused
    _problem(client.get("/v1/drugs", params={"cursor": _cursor(client, "/v1/sources")}), 400, "invalid-cursor")
    by_slug = _cursor(client, "/v1/indications")
    _problem(client.get("/v1/indications", params={"cursor": by_slug, "sort": "-slug"}), 400, "invalid-cursor")
    off_label = _cursor(client, "/v1/indications", status="off-label")
    _problem(client.get("/v1/indications", params={"cursor": off_label}), 400, "invalid-cursor")
    _problem(client.get("/v1/indications", params={"cursor": off_label, "status": "approved"}), 400, "invalid-cursor")
    assert client.get("/v1/indications", params={"cursor": off_label, "status": "off-label"}).status_code == 200


def test_a_tampered_cursor_is_refused(client: TestClient) -> None:
    cursor = _cursor(client, "/v1/sources", sort="year")
    body, signature = cursor.split(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload[3] = 1900  # move the position, keep the signature
    forged = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=") + "." + signature
    _problem(client.get("/v1/sources", params={"sort": "year", "cursor": forged}), 400, "invalid-cursor")
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    _problem(client.get("/v1/sources", params={"sort": "year", "cursor": flipped}), 400, "invalid-cursor")


def _signed(codec: CursorCodec, payload: Any) -> str:
    """A cursor signed with the app's key around any payload (as if the key had leaked)."""
    raw = json.dumps(payload).encode()
    encode = base64.urlsafe_b64encode
    return f"{encode(raw).decode().rstrip('=')}.{encode(codec._sign(raw)).decode().rstrip('=')}"


def test_signed_cursors_out_of_range_are_refused(client: TestClient, settings: Settings) -> None:
    """Even a correctly signed cursor is checked against the sort field's type and range."""
    codec = CursorCodec(settings.cursor_secret)
    digest = filters_digest({"updated_since": None})
    for sort, value in (
        ("year", 2**64),
        ("year", 10**100),
        ("year", 1e300),
        ("year", -(2**40)),
        ("year", True),
        ("updated_at", "not a time"),
        ("updated_at", 1e300),
        ("slug", "x" * 200),
        ("slug", "b"),
        ("slug", None),
    ):
        cursor = _signed(codec, ["sources", sort, digest, value, "a"])
        _problem(client.get("/v1/sources", params={"sort": sort, "cursor": cursor}), 400, "invalid-cursor")
    for bad in (["sources", "year", digest, 2000], ["sources", "year", digest, 2000, 7], "text", 5):
        _problem(
            client.get("/v1/sources", params={"sort": "year", "cursor": _signed(codec, bad)}), 400, "invalid-cursor"
        )
    fine = codec.encode("sources", "year", digest, Position(2000, "a"))
    assert client.get("/v1/sources", params={"sort": "year", "cursor": fine}).status_code == 200


def test_paging_follows_every_sort_in_both_directions(client: TestClient) -> None:
    for kind in KINDS:
        everything = client.get(f"/v1/{kind.name}", params={"limit": "100"}).json()["data"]
        for sort in [m.value for m in kind.sort_enum]:
            seen: list[str] = []
            url: str | None = f"/v1/{kind.name}?limit=3&sort={sort}"
            while url:
                body = client.get(url).json()
                seen += [i["slug"] for i in body["data"]]
                url = body["links"]["next"]
            assert sorted(seen) == sorted(i["slug"] for i in everything), (kind.name, sort)
            assert len(seen) == len(set(seen)), (kind.name, sort)


# ------------------------------------------------------------------------- updated_since


def test_updated_since_filters_every_list(client: TestClient) -> None:
    long_ago = "2000-01-01T00:00:00Z"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for kind in KINDS:
        everything = client.get(f"/v1/{kind.name}", params={"limit": "100"}).json()["meta"]["total"]
        assert client.get(f"/v1/{kind.name}", params={"updated_since": long_ago}).json()["meta"]["total"] == everything
        assert client.get(f"/v1/{kind.name}", params={"updated_since": future}).json()["data"] == []
    naive = client.get("/v1/regimens", params={"updated_since": "2000-01-01T00:00:00"})
    assert naive.status_code == 200 and naive.json()["data"]
    _problem(client.get("/v1/regimens", params={"updated_since": "yesterday"}), 422, "validation-error")


def test_updated_since_returns_what_a_load_changed(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'u.sqlite3'}", content_check_interval=0))
    with TestClient(app) as client:
        time.sleep(0.01)
        since = datetime.now(UTC).isoformat()
        drug = DATASET.drugs[0]
        changed = DATASET.model_copy(
            update={"drugs": [drug.model_copy(update={"plain_summary": drug.plain_summary + " More."})]}
        )
        with Session(app.state.engine) as session:
            load_dataset(session, changed)
        assert [d["slug"] for d in client.get("/v1/drugs", params={"updated_since": since}).json()["data"]] == [
            drug.slug
        ]
        assert client.get("/v1/regimens", params={"updated_since": since}).json()["data"] == []


# ------------------------------------------------------------------------- the version swap


def test_a_reload_under_concurrent_reads_never_mixes_versions(settings: Settings) -> None:
    """Threads read lists and records while content versions are loaded: every answer is wholly one version."""
    app = create_app(settings.model_copy(update={"content_check_interval": 0.02, "response_cache_entries": 0}))
    markers: dict[int, str] = {}
    answers: list[tuple[int, set[str]]] = []
    problems: list[str] = []
    stop = threading.Event()

    def marker_of(summary: str) -> str:
        return summary.rsplit(" ", 1)[-1] if summary.endswith("]") else ""

    def read(client: TestClient) -> None:
        while not stop.is_set():
            for url in ("/v1/regimens?limit=100", "/v1/drugs/naltrexone"):
                response = client.get(url)
                if response.status_code != 200:
                    problems.append(f"{url}: {response.status_code}")
                    continue
                body = response.json()
                items = body["data"] if isinstance(body["data"], list) else [body["data"]]
                answers.append((body["meta"]["dataset_version"], {marker_of(i["clinical_summary"]) for i in items}))

    with TestClient(app) as client:
        markers[client.get("/v1/drugs").json()["meta"]["dataset_version"]] = ""
        threads = [threading.Thread(target=read, args=(client,)) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            for edition in range(1, 4):
                marker = f"[edition-{edition}]"
                with Session(app.state.engine) as session:
                    report = load_dataset(session, _edited(DATASET, f" {marker}"))
                markers[report.content_version] = marker
                time.sleep(0.15)
            deadline = time.monotonic() + 10
            while app.state.read_model.current().content_version != max(markers) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            stop.set()
            for t in threads:
                t.join()
        final = client.get("/v1/regimens/low-dose-naltrexone").json()
        with Session(app.state.engine) as session:
            load_dataset(session, DATASET)
    assert not problems, problems[:5]
    versions = {v for v, _ in answers}
    assert len(versions) >= 2, versions  # the reads did span a swap
    for version, seen in answers:
        assert seen == {markers[version]}, (version, seen)
    assert final["meta"]["dataset_version"] == max(markers) and final["data"]["clinical_summary"].endswith(
        "[edition-3]"
    )
    assert app.state.read_model.builds >= 2


def test_the_model_is_rebuilt_off_the_request_path(settings: Settings) -> None:
    """With a check interval, a load is picked up by the watcher; requests before it keep the old model."""
    app = create_app(settings.model_copy(update={"content_check_interval": 0.05}))
    with TestClient(app) as client:
        holder = app.state.read_model
        before = holder.current()
        with Session(app.state.engine) as session:
            load_dataset(session, _edited(DATASET, " [watched]"))
        deadline = time.monotonic() + 10
        while holder.current() is before and time.monotonic() < deadline:
            time.sleep(0.02)
        after = holder.current()
        assert after is not before and after.content_version > before.content_version
        assert client.get("/v1/drugs/naltrexone").json()["data"]["clinical_summary"].endswith("[watched]")
        holder.interval = 3600  # the watcher's next check is an hour away: what is counted next is the request's
        time.sleep(0.2)
        with QueryCounter(app.state.engine) as counter:
            client.get("/v1/regimens?limit=2")
        assert counter.count == 0
        with Session(app.state.engine) as session:
            load_dataset(session, DATASET)


# ------------------------------------------------------------------------- the store goes away


def test_reads_keep_answering_while_the_store_is_unreachable(database_url: str, tmp_path: Path) -> None:
    """A store of its own, destroyed under the running app: reads answer from memory, readiness says 503."""
    base = os.environ.get(PG_ENV)
    if database_url.startswith("postgresql"):
        assert base
        url, name = _fresh_postgres(base)
    else:
        url, name = f"sqlite:///{tmp_path / 'gone.sqlite3'}", ""
    app = create_app(Settings(database_url=url, content_check_interval=0.05, access_log=False))
    try:
        with TestClient(app) as client:
            before = {k.name: client.get(f"/v1/{k.name}", params={"limit": "100"}).content for k in KINDS}
            detail = client.get("/v1/regimens/low-dose-naltrexone").content
            app.state.engine.dispose()
            if name:
                _drop_postgres(base or "", name)
            else:
                path = tmp_path / "gone.sqlite3"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                path.write_bytes(b"this is not a database" * 100)
            time.sleep(0.2)  # the watcher fails a few times meanwhile
            for kind in KINDS:
                again = client.get(f"/v1/{kind.name}", params={"limit": "100"})
                assert again.status_code == 200 and again.content == before[kind.name]
            assert client.get("/v1/regimens/low-dose-naltrexone").content == detail
            assert client.get("/v1/indications", params={"status": "off-label", "limit": "3"}).status_code == 200
            assert client.get("/readyz").status_code == 503
    finally:
        if name:
            _drop_postgres(base or "", name)


# ------------------------------------------------------------------------- one model per app


@pytest.fixture
def two_stores(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if database_url.startswith("postgresql"):
        base = os.environ[PG_ENV]
        (first, one), (second, two) = _fresh_postgres(base), _fresh_postgres(base)
        try:
            yield first, second
        finally:
            _drop_postgres(base, one)
            _drop_postgres(base, two)
    else:
        yield f"sqlite:///{tmp_path / 'one.sqlite3'}", f"sqlite:///{tmp_path / 'two.sqlite3'}"


def test_two_apps_over_two_stores_answer_from_their_own_data(two_stores: tuple[str, str]) -> None:
    apps = [create_app(Settings(database_url=url, content_check_interval=60, access_log=False)) for url in two_stores]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        with Session(apps[0].state.engine) as session:
            load_dataset(session, _edited(DATASET, " [store-one]"))
        with Session(apps[1].state.engine) as session:
            load_dataset(session, _edited(DATASET, " [store-two]"))
        for app in apps:
            app.state.read_model.check()
        for _ in range(3):  # interleaved
            for client, marker in ((one, "[store-one]"), (two, "[store-two]")):
                record = client.get("/v1/drugs/naltrexone").json()["data"]
                assert record["clinical_summary"].endswith(marker)
                listed = client.get("/v1/regimens", params={"limit": "100"}).json()["data"]
                assert all(r["clinical_summary"].endswith(marker) for r in listed)
        assert apps[0].state.read_model.current() is not apps[1].state.read_model.current()
        assert apps[0].state.read_model.current().key[0] != apps[1].state.read_model.current().key[0]


# ------------------------------------------------------------------------- what the integrations read


def test_the_model_exposes_dose_ranges_records_and_search_sources(app: Any, client: TestClient) -> None:
    model = app.state.read_model.current()
    expected = {(r.slug, d.slug) for r in DATASET.regimens for d in r.dose_ranges}
    assert {(d.spec.regimen, d.spec.range_slug) for d in model.dose_ranges} == expected
    for fact in model.dose_ranges:
        shown = next(
            x for x in model.record("regimens", fact.spec.regimen)["dose_ranges"] if x["slug"] == fact.spec.range_slug
        )
        assert fact.display == shown["display"] and fact.source == shown["source"]
        assert fact.verification == shown["verification"] and fact.source["slug"] == fact.spec.source
    fibro = model.select("indications", code="M79.7")
    assert fibro and {i["condition"]["slug"] for i in fibro} == {"fibromyalgia"}
    assert {(s.kind, s.slug) for s in model.search_sources} == {
        (k.name, r["slug"]) for k in KINDS for r in model.records(k.name)
    }


def test_routes_take_their_apps_model_through_the_dependency(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'd.sqlite3'}", content_check_interval=60))

    @app.get("/test-only/model-version")
    async def version(model: ReadModelDep) -> dict[str, Any]:
        return {"version": model.content_version, "regimens": len(model.records("regimens"))}

    with TestClient(app) as client:
        body = client.get("/test-only/model-version").json()
    assert body == {"version": app.state.read_model.current().content_version, "regimens": len(DATASET.regimens)}


def test_each_kind_names_its_content_record_and_dataset_list() -> None:
    """Every kind of the dataset is declared (discovered from app/kinds), once, in a distinct place."""
    assert {k.name for k in KINDS} == set(Dataset.model_fields)
    assert len({k.order for k in KINDS}) == len(KINDS) and list(KINDS) == sorted(KINDS, key=lambda k: k.order)
    for kind in KINDS:
        annotation = Dataset.model_fields[kind.name].annotation
        assert typing.get_origin(annotation) is list, kind.name
        assert typing.get_args(annotation) == (kind.content_record_class,), kind.name


def test_every_table_module_is_registered_by_importing_the_models_package() -> None:
    """A new kind's table module reaches Alembic's metadata without a line in app/models/__init__.py."""
    import pkgutil
    import sys

    from sqlmodel import SQLModel

    import app.models

    for info in pkgutil.iter_modules(app.models.__path__):
        assert f"app.models.{info.name}" in sys.modules, info.name
    for kind in KINDS:
        assert kind.table.__tablename__ in SQLModel.metadata.tables


# ------------------------------------------------------------------------- dose-check and CDS read the same model

_DOSES = [
    {"amount": "4.5", "unit": "mg", "frequency": "daily"},
    {"amount": "150", "unit": "mg", "frequency": "daily", "route": "oral"},
    {"amount": "380", "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"},
    {"amount": "0.1", "unit": "mg/kg", "frequency": "daily", "weight_kg": "40"},
]


def _cds_order_sign() -> dict[str, Any]:
    from tests.integrations.fixtures.cds_requests import medication_request, order_sign

    vivitrol = medication_request("viv-1", "Vivitrol", dose_mg=380, period=4, period_unit="wk", route="IM")
    return order_sign(vivitrol)


def test_dose_check_and_cds_answer_while_the_store_is_unreachable(database_url: str, tmp_path: Path) -> None:
    """Dose-check (GET and POST) and CDS Hooks answer from the app's read model: the store destroyed under
    the running app changes no byte of their answers."""
    base = os.environ.get(PG_ENV)
    if database_url.startswith("postgresql"):
        assert base
        url, name = _fresh_postgres(base)
    else:
        url, name = f"sqlite:///{tmp_path / 'gone.sqlite3'}", ""
    app = create_app(Settings(database_url=url, content_check_interval=0.05, access_log=False))
    sign = "/cds-services/ldn-kb-order-sign"
    try:
        with TestClient(app) as client:
            client.get("/v1/drugs")  # the model is built
            posted = [client.post("/v1/dose-check", json=d) for d in _DOSES]
            got = [client.get("/v1/dose-check", params=d) for d in _DOSES]
            cards = client.post(sign, json=_cds_order_sign())
            assert all(r.status_code == 200 for r in [*posted, *got, cards])
            assert cards.json()["cards"]
            app.state.engine.dispose()
            if name:
                _drop_postgres(base or "", name)
            else:
                path = tmp_path / "gone.sqlite3"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                path.write_bytes(b"this is not a database" * 100)
            time.sleep(0.2)
            assert client.get("/readyz").status_code == 503  # the store is really gone
            for dose, before in zip(_DOSES, posted, strict=True):
                again = client.post("/v1/dose-check", json=dose)
                assert again.status_code == 200 and again.content == before.content
            for dose, before in zip(_DOSES, got, strict=True):
                assert client.get("/v1/dose-check", params=dose).content == before.content
            # a dose not asked before is computed afresh, from memory
            fresh = client.post("/v1/dose-check", json={"amount": "3.25", "unit": "mg", "frequency": "daily"})
            assert fresh.status_code == 200 and fresh.json()["data"]["documented"] is True
            again_cards = client.post(sign, json=_cds_order_sign())
            assert again_cards.status_code == 200 and again_cards.content == cards.content
    finally:
        if name:
            _drop_postgres(base or "", name)


def test_dose_checks_and_cds_calls_run_no_query(client: TestClient, count_queries: QueryCounter) -> None:
    client.get("/v1/dose-check", params=_DOSES[0])  # warm: the model exists
    with count_queries as counter:
        for n in range(20):
            assert client.post("/v1/dose-check", json={**_DOSES[0], "amount": f"{1 + n / 7:.3f}"}).status_code == 200
            assert client.get("/v1/dose-check", params={**_DOSES[1], "amount": str(60 + n)}).status_code == 200
        assert client.post("/cds-services/ldn-kb-order-sign", json=_cds_order_sign()).status_code == 200
    assert counter.count == 0
