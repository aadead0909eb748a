"""POST/GET /v1/dose-check over the real app, against the real content's ranges."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.files import read_dataset

DATASET = read_dataset()
REGIMENS = {r.slug: r for r in DATASET.regimens}
ARTICLE_LDN = next(r for r in REGIMENS["low-dose-naltrexone"].dose_ranges if r.verification == "article-claim")


def _check(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/dose-check", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _positions(data: dict[str, Any], regimen: str) -> dict[str, str]:
    return {m["range"]["slug"]: m["position"] for m in data["matches"] if m["regimen"] == regimen}


def test_every_answer_has_one_match_per_range_and_the_label_warnings(client: TestClient) -> None:
    data = _check(client, amount=4.5, unit="mg", frequency="daily")
    all_ranges = [r.slug for g in DATASET.regimens for r in g.dose_ranges]
    assert sorted(m["range"]["slug"] for m in data["matches"]) == sorted(all_ranges)
    label = [w for w in data["warnings"] if w["code"] == "label-contraindication"]
    drug = next(d for d in DATASET.drugs if d.slug == "naltrexone")
    assert [w["message"] for w in label] == [c.text for c in drug.contraindications]
    assert all(w["source"] for w in label)


@pytest.mark.parametrize(
    ("body", "inside", "documented"),
    [
        ({"amount": 0.5, "unit": "µg", "frequency": "daily"}, "ultra-low-dose-naltrexone", True),
        ({"amount": 0.5, "unit": "mg", "frequency": "daily"}, "very-low-dose-naltrexone", True),
        ({"amount": 1.5, "unit": "mg", "frequency": "daily"}, "low-dose-naltrexone", True),
        ({"amount": 3, "unit": "mg", "frequency": "daily"}, "low-dose-naltrexone", True),
        ({"amount": 4, "unit": "mg", "frequency": "daily"}, "low-dose-naltrexone", True),
        ({"amount": 4.5, "unit": "mg", "frequency": "daily"}, "low-dose-naltrexone", True),
        ({"amount": 50, "unit": "mg", "frequency": "daily"}, "oral-naltrexone-addiction", True),
        ({"amount": 100, "unit": "mg", "frequency": "every other day"}, "oral-naltrexone-addiction", True),
        ({"amount": 150, "unit": "mg", "frequency": "every third day"}, "oral-naltrexone-addiction", True),
        (
            {"amount": 380, "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"},
            "extended-release-injectable-naltrexone",
            True,
        ),
        ({"amount": 10, "unit": "mg", "frequency": "daily"}, None, False),
        ({"amount": 250, "unit": "mg", "frequency": "daily"}, None, False),
    ],
)
def test_the_twelve_doses(client: TestClient, body: dict[str, Any], inside: str | None, documented: bool) -> None:
    data = _check(client, **body)
    assert data["documented"] is documented, data["verdict"]
    slugs = [r["slug"] for r in data["regimens"]]
    if inside:
        assert inside in slugs, data["verdict"]
        assert any(i["slug"] for i in data["indications"]) or inside != "low-dose-naltrexone"
    else:
        assert slugs == []
        assert any(w["code"] in {"not-documented", "above-all-ranges"} for w in data["warnings"])


def test_sources_disagree_at_4_5_mg_and_both_verdicts_come_back(client: TestClient) -> None:
    data = _check(client, amount=4.5, unit="mg", frequency="daily")
    positions = _positions(data, "low-dose-naltrexone")
    assert positions[ARTICLE_LDN.slug] == "above"
    insiders = [slug for slug, pos in positions.items() if pos == "inside"]
    assert len(insiders) >= 2
    sources = {m["source"] for m in data["matches"] if m["range"]["slug"] in insiders}
    assert ARTICLE_LDN.source not in sources


def test_the_article_boundary_is_exclusive(client: TestClient) -> None:
    at = _positions(_check(client, amount=4, unit="mg", frequency="daily"), "low-dose-naltrexone")
    below = _positions(_check(client, amount=3.999, unit="mg", frequency="daily"), "low-dose-naltrexone")
    assert at[ARTICLE_LDN.slug] == "above" and below[ARTICLE_LDN.slug] == "inside"


def test_250_mg_is_above_every_range(client: TestClient) -> None:
    data = _check(client, amount=250, unit="mg", frequency="daily")
    assert data["above_all_documented"] is True
    assert {w["code"] for w in data["warnings"]} >= {"above-all-ranges", "label-contraindication"}


def test_equivalent_inputs_get_the_same_verdict(client: TestClient) -> None:
    a = _check(client, amount=4500, unit="mcg", frequency="daily")
    b = _check(client, amount=4.5, unit="mg", frequency="daily")
    assert a["matches"] == b["matches"] and a["verdict"] == b["verdict"]
    bid = _check(client, amount=2, unit="mg", frequency="BID")
    daily = _check(client, amount=4, unit="mg", frequency="daily")
    assert [m["position"] for m in bid["matches"]] == [m["position"] for m in daily["matches"]]


def test_injection_at_low_dose_warns_of_the_route(client: TestClient) -> None:
    data = _check(client, amount=4.5, unit="mg", frequency="daily", route="intramuscular")
    assert data["documented"] is False
    assert "route-mismatch" in {w["code"] for w in data["warnings"]}


def test_weight_based_dose_uses_the_paediatric_limit(client: TestClient) -> None:
    ok = _check(client, amount=0.1, unit="mg/kg", frequency="daily", weight_kg=30)
    assert ok["normalized"]["mg_per_administration"] == 3
    limit = [w for w in ok["warnings"] if w["code"] == "weight-based-limit"]
    assert limit and limit[0]["source"]
    over = _check(client, amount=6, unit="mg", frequency="daily", weight_kg=30)
    assert "weight-limit-exceeded" in {w["code"] for w in over["warnings"]}


def test_get_form_matches_post(client: TestClient) -> None:
    got = client.get("/v1/dose-check", params={"amount": "4.5", "unit": "mg", "frequency": "daily"})
    assert got.status_code == 200 and "etag" in got.headers
    assert got.json()["data"] == _check(client, amount=4.5, unit="mg", frequency="daily")


def test_a_weekly_schedule(client: TestClient) -> None:
    data = _check(client, schedule="50 mg weekdays + 100 mg Saturday")
    assert data["normalized"]["mg_per_day"] == 50
    assert "oral-naltrexone-addiction" in [r["slug"] for r in data["regimens"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": -1, "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": "NaN", "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": "Infinity", "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": 1e9, "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": "four", "unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": 4.5, "unit": "spoons", "frequency": "daily"}, "unit"),
        ({"amount": 4.5, "unit": "mg", "frequency": "whenever"}, "frequency"),
        ({"amount": 0.1, "unit": "mg/kg", "frequency": "daily"}, "weight_kg"),
        ({"unit": "mg", "frequency": "daily"}, "amount"),
        ({"amount": 4.5, "unit": "mg", "frequency": "daily", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/v1/dose-check", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in {e["field"] for e in problem["errors"]}, problem
