"""The front door (cache hits and 304s answered before FastAPI's stack) answers exactly as the stack does,
counts and logs like it, leaves CORS requests to it, and never serves another content version.
Also: a burst of identical misses computes once, and the content version is re-read off the event loop."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import Iterator

import httpx
import httpx2  # what starlette's TestClient is built on
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from app.api.caching import ContentVersion
from app.api.front_door import KnowledgeApp
from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.main import create_app
from app.observability.logging import ACCESS_LOGGER
from app.settings import Settings
from tests.conftest import QueryCounter

ORIGIN = "https://frontend.example"
VOLATILE = {"x-request-id"}


@pytest.fixture(scope="module")
def quiet_app(settings: Settings) -> KnowledgeApp:
    """The app as deployed: the content version re-read every minute, not at every request."""
    return create_app(settings.model_copy(update={"content_check_interval": 60}))


@pytest.fixture(scope="module")
def quiet(quiet_app: KnowledgeApp) -> Iterator[TestClient]:
    with TestClient(quiet_app) as client:
        yield client


def _stable(response: httpx.Response | httpx2.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k not in VOLATILE]


def test_a_hit_is_answered_before_the_stack_with_the_stacks_headers(quiet_app: KnowledgeApp, quiet: TestClient) -> None:
    door = quiet_app.front_door
    assert door is not None
    for path in ("/v1/indications?limit=3", "/v1/regimens/low-dose-naltrexone", "/fhir/R4/metadata"):
        before = door.answered
        first = quiet.get(path)  # a miss: computed (by the front door from the read model for /v1), stored
        assert first.status_code == 200, path
        assert door.answered == before + (1 if path.startswith("/v1/") else 0), path
        second = quiet.get(path)
        assert door.answered == before + (2 if path.startswith("/v1/") else 1), path
        assert second.status_code == 200 and second.content == first.content
        assert _stable(second) == _stable(first), path
        assert second.headers["x-request-id"] != first.headers["x-request-id"]


def test_reads_computed_at_the_door_equal_the_stacks(quiet_app: KnowledgeApp, quiet: TestClient) -> None:
    """A plain record read or search computed by the front door from the read model (cache on: then stored;
    cache off) has the very bytes and headers the stack gives it (an app whose front door computes nothing)."""
    door = quiet_app.front_door
    assert door is not None
    settings = quiet_app.state.settings
    paths = [
        "/v1/sources?limit=2&sort=-year",
        "/v1/mechanisms",
        "/v1/indications/ldn-fibromyalgia",
        "/v1/drugs?_=1",
        "/v1/search?q=fibromyalga",  # a typo
        "/v1/search?q=naltr&limit=2",
        "/v1/search?q=pain&kind=indications&kind=conditions",
    ]
    for cache_bytes in (settings.response_cache_bytes, 0):
        computed = create_app(settings.model_copy(update={"response_cache_bytes": cache_bytes}))
        stack = create_app(settings.model_copy(update={"response_cache_bytes": cache_bytes}))
        assert stack.front_door is not None and computed.front_door is not None
        stack.front_door.reads = None
        with TestClient(computed) as a, TestClient(stack) as b:
            for path in paths:
                for headers in ({}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "br"}):
                    got, expected = a.get(path, headers=headers), b.get(path, headers=headers)
                    assert got.status_code == expected.status_code == 200, (path, got.text[:200])
                    assert got.content == expected.content, path
                    assert _stable(got) == _stable(expected), (path, headers)
                head = a.head(path)
                assert head.content == b"" and _stable(head) == _stable(b.head(path))
        assert computed.front_door.computed >= len(paths)
        assert stack.front_door.computed == 0


def test_a_hit_makes_no_query(quiet_app: KnowledgeApp, quiet: TestClient) -> None:
    quiet.get("/v1/conditions?limit=4")
    with QueryCounter(quiet_app.state.engine) as counter:
        for _ in range(5):
            assert quiet.get("/v1/conditions?limit=4").status_code == 200
            assert quiet.head("/v1/conditions?limit=4").status_code == 200
    assert counter.count == 0, counter.statements


def test_304_and_head_from_the_front_door_match_the_stack(quiet_app: KnowledgeApp, quiet: TestClient) -> None:
    door = quiet_app.front_door
    assert door is not None
    path = "/v1/sources?limit=2"
    etag = quiet.get(path).headers["etag"]
    # The stack's own 304 and HEAD, from a second app whose cache is switched off (every answer computed).
    stack_settings = quiet_app.state.settings.model_copy(update={"response_cache_bytes": 0})
    with TestClient(create_app(stack_settings)) as stack:
        expected_304 = stack.get(path, headers={"If-None-Match": etag})
        expected_head = stack.head(path)
    before = door.answered
    got_304 = quiet.get(path, headers={"If-None-Match": etag})
    got_head = quiet.head(path)
    assert door.answered == before + 2
    assert got_304.status_code == expected_304.status_code == 304
    assert got_304.content == b"" and _stable(got_304) == _stable(expected_304)
    assert got_head.status_code == 200 and got_head.content == b""
    assert _stable(got_head) == _stable(expected_head)
    assert {"etag", "cache-control", "x-content-type-options", "content-security-policy"} <= set(got_304.headers)


def test_request_ids_are_echoed_or_made(quiet: TestClient) -> None:
    path = "/v1/targets"
    quiet.get(path)
    assert quiet.get(path, headers={"X-Request-ID": "trace-77.a_b"}).headers["x-request-id"] == "trace-77.a_b"
    made = quiet.get(path, headers={"X-Request-ID": "no spaces <allowed>"}).headers["x-request-id"]
    assert made != "no spaces <allowed>" and " " not in made


def test_hits_are_counted_and_logged_under_their_route(
    quiet_app: KnowledgeApp, quiet: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    path = "/v1/mechanisms?limit=1"
    quiet.get(path)
    before = _requests(quiet, "/v1/mechanisms")
    access_log = quiet_app.state.access_log
    quiet_app.state.observer.flush()
    stream = io.StringIO()
    access_log.stream = stream
    try:
        for _ in range(3):
            assert quiet.get(path, headers={"X-Request-ID": "hit-log"}).status_code == 200
        assert _requests(quiet, "/v1/mechanisms") == before + 3  # /metrics counts what waits in the batch
    finally:
        access_log.stream = None
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    hits = [line for line in lines if line["request_id"] == "hit-log"]
    assert [(h["route"], h["status"], h["method"]) for h in hits] == [("/v1/mechanisms", 200, "GET")] * 3


def _requests(client: TestClient, route: str) -> float:
    """ldn_kb_http_requests_total for GET ``route`` 200, read from /metrics."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            wanted = {"route": route, "method": "GET", "status": "200"}
            if sample.name == "ldn_kb_http_requests_total" and wanted.items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


def test_cors_requests_go_through_the_stack(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN], "content_check_interval": 60}))
    door = app.front_door
    assert door is not None
    with TestClient(app) as client:
        path = "/v1/drugs"
        client.get(path)  # computed at the door from the read model
        plain = client.get(path)  # a hit
        assert door.answered == 2 and "Origin" in plain.headers["vary"].split(", ")
        for _ in range(2):
            cors = client.get(path, headers={"Origin": ORIGIN})
            assert cors.status_code == 200
            assert cors.headers["access-control-allow-origin"] == ORIGIN
            assert "ETag" in cors.headers["access-control-expose-headers"]
        assert door.answered == 2


def test_a_content_load_is_never_answered_from_the_old_version(settings: Settings) -> None:
    """Interval 0 (the test settings): every lookup re-reads the version; a load bumps it."""
    app = create_app(settings)
    with TestClient(app) as client:
        path = "/v1/drugs"
        client.get(path)
        old = client.get(path)
        assert old.status_code == 200
        dataset = read_dataset()
        drug = dataset.drugs[0]
        changed = dataset.model_copy(
            update={
                "drugs": [
                    drug.model_copy(update={"clinical_summary": drug.clinical_summary + " (edited)"}),
                    *dataset.drugs[1:],
                ]
            }
        )
        with Session(app.state.engine) as session:
            load_dataset(session, changed)
        try:
            new = client.get(path)
            assert new.headers["etag"] != old.headers["etag"]
            assert "(edited)" in new.text and "(edited)" not in old.text
            assert client.get(path, headers={"If-None-Match": old.headers["etag"]}).status_code == 200
        finally:
            with Session(app.state.engine) as session:
                load_dataset(session, dataset)


def test_a_burst_of_identical_misses_computes_once(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"content_check_interval": 60}))
    # A route that still queries the store per computed answer (/v1 records and search come from memory with
    # no query at all, so they cannot show how often an answer was computed): the changes feed.
    path = "/v1/changes?limit=7"

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(*(client.get(path) for _ in range(24)))

    # Started first (migrations, content, the first version read); then the burst, counted.
    with TestClient(app), QueryCounter(app.state.engine) as once:
        responses = asyncio.run(burst())
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    uncached = settings.model_copy(update={"response_cache_bytes": 0, "content_check_interval": 60})
    single = create_app(uncached)
    with TestClient(single) as client, QueryCounter(single.state.engine) as computed:
        assert client.get(path).status_code == 200
    assert 0 < once.count == computed.count, (once.statements, computed.statements)


def test_with_the_cache_off_a_computed_answer_still_sees_the_canonical_query(settings: Settings) -> None:
    """With nothing stored, the door still computes plain reads, and the route sees the canonical query as it
    does with the cache on: replicas with other cache settings write the same links.self and strong ETag."""
    app = create_app(settings.model_copy(update={"response_cache_bytes": 0, "content_check_interval": 60}))
    door = app.front_door
    assert door is not None
    with TestClient(app) as client:
        before = door.computed
        answers = [
            client.get(p)
            for p in ("/v1/search?q=fibro&limit=03", "/v1/indications?limit=2", "/v1/conditions/fibromyalgia")
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert door.computed == before + 3
    assert answers[0].json()["links"]["self"].endswith("/v1/search?limit=3&q=fibro")
    assert answers[2].json()["data"]["slug"] == "fibromyalgia"


def test_the_content_version_is_re_read_off_the_event_loop() -> None:
    reads: list[int] = []

    def read() -> int:
        reads.append(threading.get_ident())
        return len(reads)

    version = ContentVersion(read, interval=0.05)
    assert version.current() == 1  # the first read, where no watcher has read yet
    assert [version.current() for _ in range(100)] == [1] * 100
    assert len(reads) == 1

    async def watch_for_a_while() -> int:
        task = asyncio.create_task(version.watch())
        await asyncio.sleep(0.4)
        task.cancel()
        return threading.get_ident()

    loop_thread = asyncio.run(watch_for_a_while())
    assert len(reads) >= 3
    assert version.current() == len(reads)
    assert all(ident != loop_thread for ident in reads[1:])


def test_a_store_down_at_start_keeps_serving_the_known_version() -> None:
    calls: list[float] = []

    def failing() -> int:
        calls.append(time.monotonic())
        raise OSError("store away")

    version = ContentVersion(failing, interval=30)
    assert version.current() == -1 and version.current() == -1
    assert len(calls) == 1  # one try per interval, not one per request
