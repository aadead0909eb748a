"""POST/GET /v1/dose-check over the real app, against the real content's ranges."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_a_dose_documented_without_a_route_says_whose_route_it_was_documented_for(client: TestClient) -> None:
    """Audit 8: 380 mg every 4 weeks with no route was a 'labelled dose' whose summary, verdict and warnings
    never said the range is for intramuscular use (only a match's note did). The route was not checked: a
    warning says so and names the routes of the ranges that document it; with the route given, none."""
    for body, routes in (
        ({"amount": 380, "unit": "mg", "frequency": "every 4 weeks"}, {"intramuscular"}),
        ({"amount": 50, "unit": "mg", "frequency": "daily"}, {"oral"}),
        ({"amount": 4.5, "unit": "mg", "frequency": "daily"}, {"oral"}),
        ({"amount": 100, "unit": "mg", "frequency": "every 2 days"}, {"oral"}),  # audit 9: a long label was cut
    ):
        data = _check(client, **body)
        assert data["documented"] is True, body
        said = [w for w in data["warnings"] if w["code"] == "route-not-given"]
        assert len(said) == 1 and all(route in said[0]["message"] for route in routes), (body, data["warnings"])
        assert data["summary"].endswith(f"(route not given: documented for {' and '.join(routes)} use)"), data[
            "summary"
        ]
        given = _check(client, **body, route=next(iter(routes)))
        assert "route-not-given" not in {w["code"] for w in given["warnings"]}
        assert "route not given" not in given["summary"]


def test_a_verdict_never_names_an_unchecked_source_among_fitting_ranges_without_saying_so(client: TestClient) -> None:
    """Audit 8: 380 mg IM weekly: 'the amount fits the standard-oral range (…; Low Dose Naltrexone (LDN))'
    named the seed article beside a checked trial as a fitting range, without saying it is only a claim."""
    data = _check(client, amount=380, unit="mg", frequency="weekly", route="intramuscular")
    unchecked = [m for m in data["matches"] if m["verification"] not in ("primary", "secondary")]
    assert unchecked and any(m["position"] == "inside" and not m["route_fits"] for m in unchecked)
    assert "Low Dose Naltrexone (LDN) (unchecked claim)" in data["verdict"], data["verdict"]
    sources = {m["source"]: m["verification"] for m in data["matches"]}
    for w in data["warnings"]:
        if w["code"] == "route-mismatch" and sources.get(w["source"]) not in ("primary", "secondary"):
            assert "documented" not in w["message"] and "only claimed" in w["message"], w


def test_weight_based_dose_uses_the_paediatric_limit(client: TestClient) -> None:
    ok = _check(client, amount=0.1, unit="mg/kg", frequency="daily", weight_kg=30)
    assert ok["normalized"]["mg_per_administration"] == 3
    limit = [w for w in ok["warnings"] if w["code"] == "weight-based-limit"]
    assert limit and limit[0]["source"]
    over = _check(client, amount=6, unit="mg", frequency="daily", weight_kg=30)
    assert "weight-limit-exceeded" in {w["code"] for w in over["warnings"]}


# Doses whose average per day equals a checked range's, on a schedule no source in the content states.
OTHER_SCHEDULES = [
    {"amount": 190, "unit": "mg", "frequency": "every 2 weeks", "route": "intramuscular"},
    {"amount": 350, "unit": "mg", "frequency": "weekly", "route": "oral"},
    {"schedule": "350 mg Monday", "route": "oral"},
    {"schedule": "100 mg Monday and Wednesday; 150 mg Friday"},
    {"amount": 31.5, "unit": "mg", "frequency": "weekly"},
    {"amount": 126, "unit": "mg", "frequency": "every 4 weeks", "route": "oral"},
    {"amount": 100, "unit": "mg", "frequency": "every 4 weeks"},
    {"amount": 9, "unit": "mg", "frequency": "every other day"},
    {"amount": 13.5, "unit": "mg", "frequency": "every third day"},
    {"amount": 4.5, "unit": "mg", "frequency": "weekly"},
    {"amount": 4.5, "unit": "mg", "frequency": "monthly"},
    {"amount": 0.1, "unit": "mg/kg", "frequency": "weekly", "weight_kg": 30},
    {"amount": 200, "unit": "mg", "frequency": "every 4 days"},
]


@pytest.mark.parametrize("body", OTHER_SCHEDULES, ids=lambda b: str(b.get("schedule") or b))
def test_a_schedule_no_source_states_is_a_warning_never_documented(client: TestClient, body: dict[str, Any]) -> None:
    data = _check(client, **body)
    assert data["indicator"] == "warning"
    assert not data["documented"] and not data["regimens"] and not data["bands"]
    assert not [m["range"]["slug"] for m in data["matches"] if m["documents"]]
    assert not data["mechanisms"] and not data["indications"]
    schedule = [w for w in data["warnings"] if w["code"] == "schedule-not-documented"]
    assert schedule and all(w["source"] and "not checked" in w["message"] for w in schedule)
    assert "not a documented schedule" in data["summary"]
    for word in ("labelled dose", "(off-label)", "documented ("):
        assert word not in data["summary"], data["summary"]


def test_a_once_daily_label_documents_one_administration_a_day_only(client: TestClient) -> None:
    """NIAAA states 50 mg once daily: 25 mg twice daily is the same amount a day, documented by the ranges
    that state an amount per day, but not the labelled once-daily dose."""
    once = _check(client, amount=50, unit="mg", frequency="once daily", route="oral")
    assert once["summary"] == "Naltrexone 50 mg daily: labelled dose"
    split = _check(client, amount=25, unit="mg", frequency="twice daily", route="oral")
    documents = {m["range"]["slug"]: m["documents"] for m in split["matches"]}
    assert documents["oral-niaaa-50-mg-daily-alcohol"] is False
    assert documents["oral-label-50-mg-daily-opioid"] is True and split["documented"]
    assert "labelled dose" not in split["summary"], split["summary"]


def test_the_labels_weekly_schedule_is_documented_and_served_with_the_range(client: TestClient) -> None:
    data = _check(client, schedule="50 mg weekdays + 100 mg Saturday", route="oral")
    assert data["documented"] and data["indicator"] == "info"
    documents = [m["range"] for m in data["matches"] if m["documents"]]
    assert [r["slug"] for r in documents] == ["oral-label-350-mg-weekly-supervised"]
    assert documents[0]["schedule"] == "50 mg weekdays + 100 mg Saturday"
    regimen = client.get("/v1/regimens/oral-naltrexone-addiction").json()["data"]
    stated = {r["slug"]: r["schedule"] for r in regimen["dose_ranges"]}
    assert stated["oral-label-350-mg-weekly-supervised"] == "50 mg weekdays + 100 mg Saturday"
    assert stated["oral-label-100-mg-every-other-day-supervised"] is None


@pytest.mark.parametrize(("amount", "weight"), [(4.5, 20), (4.5, 40), (3, 20)])
def test_a_weight_limit_exceeded_is_a_warning_whatever_documents_the_amount(
    client: TestClient, amount: float, weight: float
) -> None:
    data = _check(client, amount=amount, unit="mg", frequency="daily", weight_kg=weight)
    assert "weight-limit-exceeded" in {w["code"] for w in data["warnings"]}
    assert data["indicator"] == "warning" and not data["documented"] and not data["regimens"]
    assert "weight-based limit" in data["summary"] and "(off-label)" not in data["summary"]
    adult = _check(client, amount=amount, unit="mg", frequency="daily", weight_kg=70)
    assert adult["indicator"] == "info" and adult["documented"]


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("100 mg every other day", ("'other' is not a day", "amount, a unit and a frequency")),
        ("4.5 mg twice daily", ("'twice' is not a day", "frequency")),
        ("50 mg weekdays + 100 ug saturday", ("unit",)),
        ("0 mg monday", ("amount",)),
    ],
)
def test_a_schedule_that_does_not_read_names_the_schedule_field(
    client: TestClient, schedule: str, words: tuple[str, ...]
) -> None:
    response = client.post("/v1/dose-check", json={"schedule": schedule})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["schedule"]
    for word in words:
        assert word in problem["errors"][0]["message"], problem


@pytest.mark.parametrize(
    "body",
    [
        {"schedule": "4.5 mg daily", "amount": 500, "unit": "mg", "frequency": "daily"},
        {"schedule": "4.5 mg daily", "frequency": "weekly"},
    ],
)
def test_a_schedule_and_an_amount_together_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/v1/dose-check", json=body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["schedule"]


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


# --- strict numbers (issue 11, "What was seen" 3): ASCII decimal only, in the body and the query -------

NOT_NUMBERS = [
    "4_5",
    "4__5",
    "_45",
    "４.５",
    "٤٫٥",
    "4.٥",
    "0x2d",
    "0X2D",
    "inf",
    "-inf",
    "nan",
    "Infinity",
    "1e",
    "4.5.1",
    "4,5",
    "",
    " ",
]


@pytest.mark.parametrize("text", NOT_NUMBERS)
@pytest.mark.parametrize("field", ["amount", "weight_kg"])
def test_only_ascii_decimals_are_numbers(client: TestClient, text: str, field: str) -> None:
    body: dict[str, Any] = {"amount": "4.5", "unit": "mg", "frequency": "daily", "weight_kg": "70"}
    body[field] = text
    for response in (client.post("/v1/dose-check", json=body), client.get("/v1/dose-check", params=body)):
        assert response.status_code == 422, (text, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in response.json()["errors"]}, response.text


@pytest.mark.parametrize(
    ("text", "mg"), [("4.5", 4.5), ("4.50", 4.5), ("+4.5", 4.5), (".5", 0.5), ("4.", 4), ("1e1", 10)]
)
def test_plain_decimal_text_is_read(client: TestClient, text: str, mg: float) -> None:
    for response in (
        client.post("/v1/dose-check", json={"amount": text, "unit": "mg", "frequency": "daily"}),
        client.get("/v1/dose-check", params={"amount": text, "unit": "mg", "frequency": "daily"}),
    ):
        assert response.status_code == 200, response.text
        assert response.json()["data"]["normalized"]["mg_per_administration"] == mg


def test_a_weight_with_an_underscore_is_not_seventy(client: TestClient) -> None:
    response = client.get(
        "/v1/dose-check", params={"amount": "0.1", "unit": "mg/kg", "frequency": "daily", "weight_kg": "7_0"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "weight_kg"


# --- the decision rules in the answer (issue 11, "What was seen" 1 and 5) -----------------------------


@pytest.mark.parametrize(("amount", "times"), [(150, 3), (200, 4)])
def test_an_article_figure_never_documents_a_dose(client: TestClient, amount: int, times: int) -> None:
    data = _check(client, amount=amount, unit="mg", frequency="daily")
    assert data["documented"] is False
    assert data["regimens"] == [] and data["bands"] == []
    assert data["indicator"] == "warning"
    assert data["summary"].startswith(f"Naltrexone {amount} mg daily is {times}× the label's 50 mg daily")
    assert len(data["summary"]) < 140
    # the article's 50-200 mg stays visible, attributed, and outside the approved regimen's verdict
    claimed = data["claimed_only_by"]
    assert [c["range"]["slug"] for c in claimed] == ["oral-article-50-to-200-mg-daily"]
    assert claimed[0]["verification"] == "article-claim"
    assert claimed[0]["source_citation"]["title"]
    assert "inside the standard-oral range" not in data["verdict"]
    assert "only claimed, not checked" in data["verdict"]
    above = [w for w in data["warnings"] if w["code"] == "above-all-ranges"]
    assert above and "The label gives 50 mg daily" in above[0]["message"]
    assert {w["code"] for w in data["warnings"]} >= {"claimed-only", "above-all-ranges"}
    article = next(m for m in data["matches"] if m["range"]["slug"] == "oral-article-50-to-200-mg-daily")
    assert article["position"] == "inside" and article["documents"] is False
    assert article["verification"] == article["range"]["verification"] == "article-claim"


def test_every_match_carries_its_verification(client: TestClient) -> None:
    data = _check(client, amount=4.5, unit="mg", frequency="daily")
    by_slug = {r.slug: r.verification for g in DATASET.regimens for r in g.dose_ranges}
    for m in data["matches"]:
        assert m["verification"] == m["range"]["verification"] == by_slug[m["range"]["slug"]]
        assert m["documents"] is (
            m["comparable"] and m["position"] == "inside" and m["verification"] != "article-claim"
        )


@pytest.mark.parametrize(
    ("body", "indicator", "summary", "dose_text"),
    [
        (
            {"amount": 380, "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"},
            "info",
            "Naltrexone 380 mg IM every 4 weeks: labelled dose",
            "380 mg every 4 weeks",
        ),
        (
            {"amount": 380, "unit": "mg", "frequency": "monthly", "route": "im"},
            "info",
            "Naltrexone 380 mg IM every 4 weeks: labelled dose",
            "380 mg every 4 weeks",
        ),
        (
            {"amount": 4.5, "unit": "mg", "frequency": "daily"},
            "info",
            "Naltrexone 4.5 mg daily: low-dose (off-label) (route not given: documented for oral use)",
            "4.5 mg daily",
        ),
        (
            {"amount": 50, "unit": "mg", "frequency": "daily"},
            "info",
            "Naltrexone 50 mg daily: labelled dose (route not given: documented for oral use)",
            "50 mg daily",
        ),
        (
            {"amount": 1, "unit": "mg", "frequency": "BID"},
            "info",
            "Naltrexone 1 mg twice daily: low-dose (off-label) (route not given: documented for oral use)",
            "1 mg twice daily",
        ),
        (
            {"amount": 250, "unit": "mg", "frequency": "daily"},
            "warning",
            "Naltrexone 250 mg daily is 5× the label's 50 mg daily",
            "250 mg daily",
        ),
        (
            {"amount": 10, "unit": "mg", "frequency": "daily"},
            "warning",
            "Naltrexone 10 mg daily: in no documented regimen",
            "10 mg daily",
        ),
        (
            {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "intramuscular"},
            "warning",
            "Naltrexone 4.5 mg IM daily: documented only for oral use",
            "4.5 mg daily",
        ),
    ],
)
def test_indicator_summary_and_dose_text(
    client: TestClient, body: dict[str, Any], indicator: str, summary: str, dose_text: str
) -> None:
    data = _check(client, **body)
    assert (data["indicator"], data["summary"], data["dose_text"]) == (indicator, summary, dose_text)
    assert "mg/day" not in data["summary"]


def test_verdicts_name_sources_by_title(client: TestClient) -> None:
    data = _check(client, amount=50, unit="mg", frequency="daily")
    niaaa = next(s for s in DATASET.sources if s.slug == "niaaa-naltrexone-alcoholism-release")
    assert niaaa.title in data["verdict"]
    assert "niaaa-naltrexone-alcoholism-release" not in data["verdict"]
    for w in data["warnings"]:
        assert "'s '" not in w["message"]


def test_indications_show_the_direction_of_the_evidence(client: TestClient) -> None:
    data = _check(client, amount=4.5, unit="mg", frequency="daily")
    by_slug = {i.slug: i for i in DATASET.indications}
    assert data["indications"]
    words = {"benefit": "supports", "no-benefit": "no benefit", "mixed": "mixed", "not-assessed": "not assessed"}
    for item in data["indications"]:
        record = by_slug[item["slug"]]
        assert item["direction"] == words[record.evidence_direction]
        assert item["article_only"] is (record.claim_basis == "article-only")
        if record.evidence_direction != "benefit":
            assert item["direction"] != "supports"
    assert any(i["article_only"] for i in data["indications"])


# --- one snapshot per app: two apps in one process answer from their own stores ------------------------


def test_two_apps_on_two_stores_answer_from_their_own_content(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from decimal import Decimal

    from sqlmodel import Session, create_engine

    from app import migrate
    from app.content.loader import load_dataset
    from app.main import create_app
    from app.settings import Settings

    regimens = []
    for regimen in DATASET.regimens:
        if regimen.slug == "oral-naltrexone-addiction":
            ranges = [
                r.model_copy(update={"max": Decimal(120)}) if r.slug == "oral-article-50-to-200-mg-daily" else r
                for r in regimen.dose_ranges
            ]
            regimen = regimen.model_copy(update={"dose_ranges": ranges})
        regimens.append(regimen)
    altered = DATASET.model_copy(update={"regimens": regimens})
    url = f"sqlite:///{tmp_path_factory.mktemp('other-store') / 'other.sqlite3'}"
    engine = create_engine(url)
    migrate.upgrade_to_head(engine)
    with Session(engine) as session:
        assert load_dataset(session, altered).content_version == 1
    engine.dispose()
    other_app = create_app(Settings(database_url=url, content_check_interval=0))
    with TestClient(other_app) as other:
        for _ in range(2):  # interleaved: neither app answers from the other's snapshot
            ours = _check(client, amount=150, unit="mg", frequency="daily")
            theirs = _check(other, amount=150, unit="mg", frequency="daily")
            assert [c["range"]["slug"] for c in ours["claimed_only_by"]] == ["oral-article-50-to-200-mg-daily"]
            assert theirs["claimed_only_by"] == []
            maxima = {m["range"]["slug"]: m["range"]["max"] for m in theirs["matches"]}
            assert maxima["oral-article-50-to-200-mg-daily"] == 120


# --- the paediatric range states no frequency: never judged as per day -----------------------------------


def test_the_paediatric_range_compares_one_administration_only(client: TestClient) -> None:
    # 4.5 mg twice daily for 50 kg: each administration is within 0.1 mg/kg (max 4.5 mg); the facts give no
    # frequency, so 9 mg a day is not "above the paediatric limit" (it was, read as per day, on main)
    data = _check(client, amount=4.5, unit="mg", frequency="twice daily", weight_kg=50)
    codes = {w["code"] for w in data["warnings"]}
    assert "weight-limit-exceeded" not in codes
    peds = next(m for m in data["matches"] if m["regimen"] == "low-dose-naltrexone-paediatric")
    assert peds["range"]["per"] == "administration-only"
    assert peds["position"] == "inside" and peds["basis"] == "per-administration"
    assert "states no frequency" in peds["note"]
    assert peds["range"]["mg_per_day_max"] is None
    assert "per administration" in peds["range"]["display"]
    # one administration above 0.1 mg/kg x weight is still flagged, per administration
    over = _check(client, amount=6, unit="mg", frequency="daily", weight_kg=30)
    limit = [w for w in over["warnings"] if w["code"] == "weight-limit-exceeded"]
    assert limit and "per administration" in limit[0]["message"] and "states no frequency" in limit[0]["message"]


@pytest.mark.parametrize("raw", ["true", "false", "[]", "{}", "[4.5]", "1e400", "-1e400"])
def test_a_non_number_in_the_body_names_the_field_once(client: TestClient, raw: str) -> None:
    for field in ("amount", "weight_kg"):
        body = '{"amount": 4.5, "unit": "mg", "frequency": "daily", "weight_kg": 70}'.replace(
            f'"{field}": 4.5' if field == "amount" else f'"{field}": 70', f'"{field}": {raw}'
        )
        response = client.post("/v1/dose-check", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (raw, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text


_GRAMMAR = re.compile(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?[ \t]*")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from("0123456789._eE+- x٤４\u00a0"), min_size=1, max_size=8))
def test_the_query_reads_only_the_documented_grammar(client: TestClient, text: str) -> None:
    response = client.get("/v1/dose-check", params={"amount": text, "unit": "mg", "frequency": "daily"})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert _GRAMMAR.fullmatch(text), text
    else:
        assert response.json()["errors"][0]["field"] == "amount"


def test_the_remaining_hepatotoxicity_warning_is_served_at_every_dose(client: TestClient) -> None:
    drug = next(d for d in DATASET.drugs if d.slug == "naltrexone")
    events = [a.event for a in drug.approvals if "hepatotoxicity" in a.event.lower()]
    assert events
    for body in (
        {"amount": 4.5, "unit": "mg", "frequency": "daily"},
        {"amount": 50, "unit": "mg", "frequency": "daily"},
    ):
        label = [w for w in _check(client, **body)["warnings"] if w["code"] == "label-warning"]
        assert [w["message"].rsplit(" (", 1)[0] for w in label] == events
        assert all(w["source"] and w["verification"] == "primary" for w in label)


def test_what_dose_checks_keep_per_shape_stays_bounded_and_answers_the_same(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Match templates are kept per range and dose shape (route, frequency, body weight); past their bound
    they are dropped, and the answers made then are the answers made with every template kept."""
    from app.services import dose_check

    assert client.get("/readyz").status_code == 200  # started: the content is loaded
    model = app.state.read_model.current()
    shapes = [
        ("4.5", "mg", "daily", "oral", None),
        ("50", "mg", "every other day", None, None),
        ("380", "mg", "every 4 weeks", "intramuscular", None),
        ("0.1", "mg/kg", "daily", "oral", "30"),
        ("0.1", "mg/kg", "twice daily", "oral", "52.5"),
    ]

    def answers() -> list[bytes]:
        return [orjson.dumps(dose_check.check_dose_in(model, dose_check.DoseRequest(*shape, None))) for shape in shapes]

    monkeypatch.setattr(dose_check, "ANSWERS_KEPT", 0)  # every answer computed
    monkeypatch.setattr(dose_check, "MATCH_TEMPLATES_KEPT", 4)  # fewer than one answer's ranges
    bounded = answers()
    assert 0 < len(dose_check._model_snapshot(model).context._match_templates) <= 4
    monkeypatch.setattr(dose_check, "MATCH_TEMPLATES_KEPT", 4096)
    assert answers() == bounded


# --- a frequency with a decimal or negative interval is refused, never read as another one (audit) --------


@pytest.mark.parametrize(
    "frequency",
    ["every 0.5 days", "every 4.0 weeks", "every 12.5 hours", "every -4 weeks", "every -1 days", "q-4h", "every −2 days",
     "every 1,5 days", "1.5 times daily", "-2 times a day"],
)  # fmt: skip
def test_a_decimal_or_negative_interval_is_a_422_on_frequency(client: TestClient, frequency: str) -> None:
    for response in (
        client.post("/v1/dose-check", json={"amount": 380, "unit": "mg", "frequency": frequency}),
        client.get("/v1/dose-check", params={"amount": "380", "unit": "mg", "frequency": frequency}),
    ):
        assert response.status_code == 422, (frequency, response.text[:300])
        assert [e["field"] for e in response.json()["errors"]] == ["frequency"]


@pytest.mark.parametrize("frequency", ["b.i.d.", "q.d.", "t.i.d.", "q.o.d.", "mon-fri", "every 4 weeks", "q4h"])
def test_abbreviations_with_dots_and_day_spans_still_read(client: TestClient, frequency: str) -> None:
    assert client.post("/v1/dose-check", json={"amount": 4.5, "unit": "mg", "frequency": frequency}).status_code == 200
