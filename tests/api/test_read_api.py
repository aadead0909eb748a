"""The /v1 read API over the real app: envelopes, filters, paging, errors, query counts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.content.files import read_dataset
from tests.conftest import QueryCounter

DATASET = read_dataset()
KINDS = ["drugs", "regimens", "targets", "mechanisms", "conditions", "indications", "sources"]


def _all(client: TestClient, path: str, **params: str) -> list[dict]:  # type: ignore[type-arg]
    """Follow links.next to the end; return every item."""
    items: list[dict] = []  # type: ignore[type-arg]
    response = client.get(path, params={"limit": "7", **params})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        if not body["links"]["next"]:
            assert "link" not in response.headers
            return items
        assert response.headers["link"] == f'<{body["links"]["next"]}>; rel="next"'
        response = client.get(body["links"]["next"])


def test_every_kind_lists_every_record_through_paging(client: TestClient) -> None:
    for kind in KINDS:
        items = _all(client, f"/v1/{kind}")
        expected = sorted(r.slug for r in getattr(DATASET, kind))
        assert [i["slug"] for i in items] == expected, kind
        first = client.get(f"/v1/{kind}", params={"limit": "1"}).json()
        assert first["meta"]["total"] == len(expected)
        assert "not medical advice" in first["meta"]["disclaimer"]
        assert first["meta"]["dataset_version"] >= 1


def test_get_by_slug_returns_the_record(client: TestClient) -> None:
    for kind in KINDS:
        slug = getattr(DATASET, kind)[0].slug
        body = client.get(f"/v1/{kind}/{slug}").json()
        assert body["data"]["slug"] == slug
        assert "disclaimer" in body["meta"]


def test_off_label_indications_carry_evidence_and_sources(client: TestClient) -> None:
    items = _all(client, "/v1/indications", status="off-label")
    expected = {i.slug for i in DATASET.indications if i.status == "off-label"}
    assert {i["slug"] for i in items} == expected
    for item in items:
        assert item["status"] == "off-label"
        assert item["evidence"]["level"]
        assert item["sources"], item["slug"]
        assert item["condition"]["slug"] and item["regimen"]["slug"]
    article_only = [i for i in items if i["evidence"]["claim_basis"] == "article-only"]
    assert article_only and all(i["evidence"]["level"] == "source-claim" for i in article_only)


def test_regimens_show_every_source_range_attributed(client: TestClient) -> None:
    items = {r["slug"]: r for r in _all(client, "/v1/regimens")}
    ldn, addiction = items["low-dose-naltrexone"], items["oral-naltrexone-addiction"]
    for regimen in (ldn, addiction):
        expected = next(r for r in DATASET.regimens if r.slug == regimen["slug"])
        assert [r["slug"] for r in regimen["dose_ranges"]] == [r.slug for r in expected.dose_ranges]
        assert all(r["source"]["slug"] and r["display"] for r in regimen["dose_ranges"])
        assert regimen["reference_range"] in {r["slug"] for r in regimen["dose_ranges"]}
    article = [r for r in ldn["dose_ranges"] if r["verification"] == "article-claim"]
    assert article[0]["max"] == 4 and article[0]["max_inclusive"] is False
    assert article[0]["display"].startswith("< 4 mg")


def test_filters(client: TestClient) -> None:
    approved = _all(client, "/v1/indications", status="approved")
    assert approved and all(i["status"] == "approved" for i in approved)
    oral = _all(client, "/v1/regimens", route="intramuscular")
    assert [r["slug"] for r in oral] == sorted(r.slug for r in DATASET.regimens if r.route == "intramuscular")
    by_regimen = _all(client, "/v1/indications", regimen="low-dose-naltrexone")
    assert {i["slug"] for i in by_regimen} == {
        i.slug for i in DATASET.indications if i.regimen == "low-dose-naltrexone"
    }
    level = _all(client, "/v1/indications", evidence_level="randomized-controlled-trial")
    assert level and {i["evidence"]["level"] for i in level} == {"randomized-controlled-trial"}
    category = DATASET.conditions[0].category
    cats = _all(client, "/v1/indications", category=category)
    wanted = {c.slug for c in DATASET.conditions if c.category == category}
    assert {i["condition"]["slug"] for i in cats} <= wanted and cats


def test_condition_code_filter_matches_codes_and_icd_headers(client: TestClient) -> None:
    fibro = _all(client, "/v1/indications", code="M79.7")
    assert fibro and {i["condition"]["slug"] for i in fibro} == {"fibromyalgia"}
    snomed = next(
        c for c in next(c for c in DATASET.conditions if c.slug == "fibromyalgia").codes if c.system == "snomed-ct"
    )
    by_snomed = _all(client, "/v1/indications", code=snomed.code, code_system="snomed-ct")
    assert {i["condition"]["slug"] for i in by_snomed} == {"fibromyalgia"}
    crohn = next(c for c in DATASET.conditions if any(k.code == "K50" for k in c.codes))
    child = _all(client, "/v1/conditions", code="K50.90")
    assert [c["slug"] for c in child] == [crohn.slug]


def test_mechanism_filters(client: TestClient) -> None:
    tlr4 = next(t for t in DATASET.targets if t.gene_symbol == "TLR4")
    by_gene = _all(client, "/v1/mechanisms", target="TLR4")
    assert by_gene and all(m["target"]["slug"] == tlr4.slug for m in by_gene)
    assert {m["slug"] for m in by_gene} == {m.slug for m in DATASET.mechanisms if m.target == tlr4.slug}
    low = _all(client, "/v1/mechanisms", regimen="low-dose-naltrexone")
    assert {m["slug"] for m in low} == {m.slug for m in DATASET.mechanisms if m.regimen == "low-dose-naltrexone"}


def test_sort_and_fields(client: TestClient) -> None:
    desc = client.get("/v1/conditions", params={"sort": "-slug", "limit": "100"}).json()["data"]
    assert [c["slug"] for c in desc] == sorted((c.slug for c in DATASET.conditions), reverse=True)
    ranked = _all(client, "/v1/indications", sort="evidence_level")
    order = [
        "regulatory-approval",
        "systematic-review",
        "randomized-controlled-trial",
        "uncontrolled-study",
        "mechanistic-study",
        "source-claim",
    ]
    ranks = [order.index(i["evidence"]["level"]) for i in ranked]
    assert ranks == sorted(ranks) and len(ranked) == len(DATASET.indications)
    # Descending orders through the cursor too: (rank, slug) reversed, and the slug alone.
    backwards = _all(client, "/v1/indications", sort="-evidence_level")
    assert [i["slug"] for i in backwards] == [i["slug"] for i in reversed(ranked)]
    conditions = _all(client, "/v1/conditions", sort="-slug")
    assert [c["slug"] for c in conditions] == sorted((c.slug for c in DATASET.conditions), reverse=True)
    slim = client.get("/v1/conditions", params={"fields": "slug,name"}).json()["data"]
    assert slim and all(set(c) == {"slug", "name"} for c in slim)


def test_empty_result_is_200_with_an_empty_list(client: TestClient) -> None:
    body = client.get("/v1/indications", params={"code": "Z99.99"}).json()
    assert body["data"] == [] and body["meta"]["total"] == 0 and body["links"]["next"] is None


def _problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict = response.json()  # type: ignore[type-arg]
    assert body["status"] == status and body["type"].startswith("/problems/") and body["detail"]
    if field:
        assert field in {e["field"] for e in body["errors"]}, body
    return body


def test_malformed_requests_get_problem_json(client: TestClient) -> None:
    _problem(client.get("/v1/indications/no-such-thing"), 404)
    _problem(client.get("/v1/indications/Bad_Slug!"), 422, "slug")
    _problem(client.get("/v1/indications", params={"status": "maybe"}), 422, "status")
    _problem(client.get("/v1/indications", params={"colour": "red"}), 400, "colour")
    _problem(client.get("/v1/indications", params={"limit": "-1"}), 422, "limit")
    _problem(client.get("/v1/indications", params={"limit": "100000"}), 422, "limit")
    _problem(client.get("/v1/indications", params={"cursor": "garbage!!"}), 400)
    _problem(client.get("/v1/indications", params={"sort": "colour"}), 400, "sort")
    _problem(client.get("/v1/indications", params={"fields": "slug,colour"}), 400, "fields")
    cursor = client.get("/v1/indications", params={"limit": "1"}).json()["links"]["next"].split("cursor=")[1]
    _problem(client.get("/v1/indications", params={"cursor": cursor, "sort": "-slug"}), 400)
    _problem(client.get("/v1/nothing-here"), 404)


def test_indication_list_uses_a_fixed_number_of_queries(client: TestClient, count_queries: QueryCounter) -> None:
    counts = {}
    for limit in ("1", "5", "50"):
        with count_queries as counter:
            counter.count = 0
            response = client.get("/v1/indications", params={"limit": limit, "sort": "-updated_at"})
            assert response.status_code == 200
        counts[limit] = counter.count
    assert counts["1"] == counts["5"] == counts["50"], counts
    # The page's own queries, plus three content-version reads: the test settings re-read the version at
    # every check (interval 0), and the front door, the cache lookup and the cache insert each check it;
    # one more for the record warnings (the label's contraindications and history, once per page).
    assert counts["50"] <= 14, counts
