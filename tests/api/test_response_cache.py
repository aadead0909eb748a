"""The one response cache (issue 12 item 4, issue 13 rows 2 and 7, issue 15 item 2): bounded in bytes,
keyed on what changes the answer only (canonical query, negotiated media type, validated base URL),
hosts and forwarded headers trusted only as configured, compression produced once per representation."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import brotli
import pytest
from fastapi.testclient import TestClient

from app.api.caching import ResponseStore, parse_accept_encoding
from app.api.front_door import KnowledgeApp
from app.main import create_app
from app.settings import Settings

LIST = "/v1/indications?limit=20"


@pytest.fixture(scope="module")
def deployed(settings: Settings) -> KnowledgeApp:
    """The app as deployed (content version re-read every minute), with a small cache to fill quickly."""
    return create_app(settings.model_copy(update={"content_check_interval": 60, "response_cache_bytes": 1_000_000}))


@pytest.fixture(scope="module")
def web(deployed: KnowledgeApp) -> Iterator[TestClient]:
    with TestClient(deployed) as client:
        yield client


def _store(app: KnowledgeApp) -> ResponseStore:
    store: ResponseStore = app.state.response_store
    return store


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


# ------------------------------------------------------------------------------------------ bytes


def test_thousands_of_distinct_query_strings_never_exceed_the_byte_bound(
    deployed: KnowledgeApp, web: TestClient
) -> None:
    store = _store(deployed)
    bound = store.max_bytes
    for i in range(2500):
        path = f"/fhir/R4/MedicationKnowledge?_count={1 + i % 100}&_id=x{i}" if i % 2 else f"/v1/search?q=zz{i}"
        assert web.get(path, headers={"Accept-Encoding": "gzip" if i % 3 else "br"}).status_code == 200, path
        assert store.total_bytes <= bound
    assert store.total_bytes == sum(e.size for e in store.entries.values())
    assert store.total_bytes > bound // 2  # it did fill up, and evicted rather than refusing everything
    big = web.get("/v1/indications?limit=100")  # a large answer gets its compressed variants counted too
    assert big.status_code == 200 and store.total_bytes <= bound


def test_zero_padded_numbers_and_parameter_order_are_one_entry(deployed: KnowledgeApp, web: TestClient) -> None:
    door = deployed.front_door
    assert door is not None
    first = web.get("/v1/indications?limit=3&sort=slug")
    size = len(_store(deployed).entries)
    answered = door.answered
    for variant in ("/v1/indications?sort=slug&limit=003", "/v1/indications?limit=0003&sort=slug"):
        again = web.get(variant)
        assert again.status_code == 200 and again.content == first.content, variant
    assert door.answered == answered + 2  # both answered from the one stored entry
    assert len(_store(deployed).entries) == size
    assert first.json()["links"]["self"] == "http://testserver/v1/indications?limit=3&sort=slug"


@pytest.fixture(scope="module")
def uncached(settings: Settings) -> Iterator[TestClient]:
    """The same store, served by an app with the response cache off (another replica's settings)."""
    app = create_app(settings.model_copy(update={"content_check_interval": 60, "response_cache_bytes": 0}))
    with TestClient(app) as client:
        yield client


SPELLINGS = [
    "/v1/indications?limit=05",
    "/v1/indications?fields=slug,status&limit=3",
    "/v1/indications?limit=3&fields=slug%2Cstatus",
    "/v1/indications?&limit=1",
    "/v1/indications?limit=2&status=off-label",
    "/v1/indications?status=off-label&limit=2",
    "/v1/search?q=crohn*",
    "/v1/search?q=crohn%2A&limit=5",
    "/v1/regimens?sort=-name",
    "/fhir/R4/MedicationKnowledge?_count=03",
]


@pytest.mark.parametrize("path", SPELLINGS)
def test_links_and_etags_are_the_same_with_the_cache_on_or_off(
    web: TestClient, uncached: TestClient, path: str
) -> None:
    """Replicas with different cache settings give the same body and strong ETag for the same request: the
    canonical query is the route's view of the request whether or not a cache keeps the answer."""
    on, off = web.get(path), uncached.get(path)
    assert on.status_code == off.status_code == 200, (on.text[:300], off.text[:300])
    assert on.content == off.content, path
    assert on.headers["etag"] == off.headers["etag"], path
    again = web.get(path)
    assert again.content == on.content and again.headers["etag"] == on.headers["etag"]


def test_fhir_count_padding_is_not_a_new_entry(settings: Settings) -> None:
    """Issue 13 row 2: 4,200 spellings of one FHIR search (``_count=000…100``) held 2.29 GB."""
    app = create_app(settings.model_copy(update={"content_check_interval": 60}))
    door = app.front_door
    assert door is not None
    with TestClient(app) as client:
        first = client.get("/fhir/R4/MedicationKnowledge?_count=100")
        size, answered = len(_store(app).entries), door.answered
        for zeros in (1, 2, 10, 41, 200, 1000):
            again = client.get(f"/fhir/R4/MedicationKnowledge?_count={'0' * zeros}100")
            assert again.status_code == 200 and again.content == first.content, zeros
        assert door.answered == answered + 6  # every spelling answered from the one stored entry
        assert len(_store(app).entries) == size


def test_raw_accept_values_share_the_negotiated_entry(deployed: KnowledgeApp, web: TestClient) -> None:
    web.get("/v1/sources?limit=4")
    size = len(_store(deployed).entries)
    for i in range(20):
        accept = f"application/json;q=0.{i + 1}, text/x-{i};q=0.5"
        assert web.get("/v1/sources?limit=4", headers={"Accept": accept}).status_code == 200
    assert web.get("/v1/sources?limit=4", headers={"Accept": "text/csv"}).status_code == 406  # never a hit
    assert len(_store(deployed).entries) == size


# ------------------------------------------------------------------------------------------ hosts


def test_a_host_not_allowed_is_a_400_problem_cached_or_not(web: TestClient) -> None:
    web.get(LIST)  # cached now
    for path in (LIST, "/v1/drugs/naltrexone", "/fhir/R4/metadata", "/cds-services"):
        response = web.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "evil.example" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"


def test_allowed_hosts_are_reflected_and_cached_apart(settings: Settings) -> None:
    allowed = settings.model_copy(update={"allowed_hosts": ["kb.example.org", ".internal.example"]})
    with TestClient(create_app(allowed)) as client:
        for host in ("kb.example.org", "kb.example.org:8443", "api.internal.example"):
            body = client.get(LIST, headers={"Host": host}).json()
            assert body["links"]["self"].startswith(f"http://{host}/v1/indications"), host
        assert client.get(LIST, headers={"Host": "testserver"}).status_code == 400
        assert client.get(LIST, headers={"Host": "kb.example.org.evil.example"}).status_code == 400


def test_the_public_base_url_wins_over_any_host(settings: Settings) -> None:
    public = settings.model_copy(update={"public_base_url": "https://kb.example.org/"})
    with TestClient(create_app(public)) as client:
        for host in ("testserver", "evil.example"):
            body = client.get(LIST, headers={"Host": host}).json()
            assert body["links"]["self"] == "https://kb.example.org/v1/indications?limit=20", host
        redirect = client.get("/v1/drugs/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"] == "https://kb.example.org/v1/drugs"


def test_forwarded_headers_count_only_from_trusted_proxies(settings: Settings) -> None:
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    with TestClient(create_app(settings)) as client:  # no trusted proxy (the default)
        first = client.get(LIST, headers=forged)
        assert first.json()["links"]["self"].startswith("http://testserver/"), first.json()["links"]
        assert client.get(LIST).json()["links"]["self"].startswith("http://testserver/")
        redirect = client.get("/v1/drugs/", headers=forged, follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"] == "http://testserver/v1/drugs"
    trusting = settings.model_copy(update={"trusted_proxies": ["testclient", "127.0.0.1", "10.0.0.0/8"]})
    with TestClient(create_app(trusting)) as client:
        proxied = client.get(LIST, headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "testserver"})
        assert proxied.json()["links"]["self"].startswith("https://testserver/")
        # The https answer is cached under its own base: a direct http client never gets https links.
        assert client.get(LIST).json()["links"]["self"].startswith("http://testserver/")
        # A forwarded host must be allowed like any other.
        assert client.get(LIST, headers={"X-Forwarded-Host": "evil.example"}).status_code == 400


# ------------------------------------------------------------------------------------ compression


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("*;q=0, gzip;q=0.1", "gzip"),
        ("identity", None),
        ("deflate", None),
        ("gzip;q=0, br;q=0", None),
    ],
)
def test_accept_encoding_is_negotiated_with_q_values(header: str, coding: str | None) -> None:
    assert parse_accept_encoding(header.encode()) == (coding.encode() if coding else None)


def test_compressed_answers_per_coding_with_their_own_strong_etag(deployed: KnowledgeApp, web: TestClient) -> None:
    plain, plain_raw = _raw(web, "/v1/indications?limit=20", {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and len(plain_raw) > 10_000
    assert "Accept-Encoding" in plain.headers["vary"]
    tags = {plain.headers["etag"]}
    for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        first, raw = _raw(web, "/v1/indications?limit=20", {"Accept-Encoding": coding})
        assert first.headers["content-encoding"] == coding
        assert decode(raw) == plain_raw and len(raw) < len(plain_raw) // 3
        assert first.headers["etag"] == plain.headers["etag"][:-1] + f'-{coding}"'
        assert int(first.headers["content-length"]) == len(raw)
        assert "Accept-Encoding" in first.headers["vary"]
        # A hit (the front door) sends the very bytes stored, made once: same body, same tag, and a 304.
        again, raw_again = _raw(web, "/v1/indications?limit=20", {"Accept-Encoding": coding})
        assert raw_again == raw and again.headers["etag"] == first.headers["etag"]
        not_modified = web.get(
            "/v1/indications?limit=20",
            headers={"Accept-Encoding": coding, "If-None-Match": first.headers["etag"]},
        )
        assert not_modified.status_code == 304
        tags.add(first.headers["etag"])
    assert len(tags) == 3
    entry = next(e for k, e in _store(deployed).entries.items() if k[0] == "/v1/indications" and "limit=20" in k[1])
    assert set(entry.codings) == {b"gzip", b"br"}
    made = entry.codings[b"gzip"]
    _raw(web, "/v1/indications?limit=20", {"Accept-Encoding": "gzip"})
    assert entry.codings[b"gzip"] is made  # not compressed again


def test_small_bodies_stay_plain(web: TestClient) -> None:
    small, small_raw = _raw(web, "/v1/drugs?limit=1&fields=slug", {"Accept-Encoding": "gzip, br"})
    assert len(small_raw) < 1024 and "content-encoding" not in small.headers
    assert small.status_code == 200 and "Accept-Encoding" not in small.headers.get("vary", "")


def test_docs_assets_are_served_compressed(web: TestClient) -> None:
    for path in ("/openapi.json", "/docs-static/swagger-ui-bundle.js"):
        plain, plain_raw = _raw(web, path, {"Accept-Encoding": "identity"})
        assert plain.status_code == 200, path
        for _ in range(2):
            coded, raw = _raw(web, path, {"Accept-Encoding": "gzip, br"})
            assert coded.headers["content-encoding"] == "br", path
            assert brotli.decompress(raw) == plain_raw and len(raw) < len(plain_raw) // 2, path


def test_a_plain_query_is_its_own_canonical_spelling() -> None:
    """One ``name=value`` of characters percent-encoding keeps (a search as typed) is taken as it is; every
    query, plain or not, gets exactly the spelling worked out by parsing and re-encoding."""
    import random

    from app.api.caching import Canonical

    rnd = random.Random(9)
    pieces = [
        "q",
        "limit",
        "_",
        "kind",
        "fibro",
        "007",
        "7",
        "",
        "a b",
        "a+b",
        "%41",
        "%zz",
        "é",
        "~x",
        "a.b-c_d",
        "=",
        "&",
    ]
    raws = {f"{rnd.choice(pieces)}{rnd.choice(['=', ''])}{rnd.choice(pieces)}".encode() for _ in range(3000)}
    raws |= {
        f"q={rnd.choice(pieces)}{rnd.choice(pieces)}&{rnd.choice(pieces)}={rnd.choice(pieces)}".encode()
        for _ in range(1000)
    }
    raws |= {b"q=naltrexone", b"q=", b"limit=7", b"limit=07", b"_=1", b"Q=Fibro", b"q=a~b.c-d_e"}
    for raw in sorted(raws):
        fast, worked_out = Canonical(lambda: {"limit"}), Canonical(lambda: {"limit"})
        worked_out.integer_params = frozenset({"limit"})
        assert fast(raw) == worked_out.spelled(raw), raw
    taken = Canonical(lambda: {"limit"})
    assert taken(b"q=fibromyalga") == "q=fibromyalga" and not taken._memo, "a plain query is not worked out"
    assert taken(b"limit=07") == "limit=7" and taken(b"_=3&q=x") == "q=x"


def test_an_entry_counts_every_byte_of_its_header_lists() -> None:
    from app.api.caching import make_entry

    headers = [(b"content-type", b"application/json"), (b"x-thing", b"1" * 50), (b"cache-control", b"no-cache")]
    entry = make_entry(headers, b"[1]" * 400, b'"tag"', "/v1/x", lambda h, _p: [*h, (b"x-frame-options", b"DENY")])
    v = entry.identity
    lists = (v.headers, v.not_modified_headers, v.outer, v.outer_not_modified)
    by_header = sum(len(name) + len(value) + 72 for h in lists for name, value in h)
    assert v.size == len(v.body) + len(v.etag) + by_header and len(v.outer) == len(v.headers) + 1
