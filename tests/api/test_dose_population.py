"""The dose check and the population a range is for (the seventh session's audit findings).

The only weight-based range in the content is the paediatric pilot's (Smith 2013: 0.1 mg/kg, maximum 4.5 mg,
no frequency stated). Its limit is a children's limit: it never turns an adult's labelled dose into a
warning when the caller says the patient is an adult, and it is never silent for a child: what the trial
does not cover (a daily total above one administration's limit, another route) is a warning, not "info".
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _check(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/dose-check", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _codes(data: dict[str, Any]) -> set[str]:
    return {w["code"] for w in data["warnings"]}


PAEDIATRIC = "low-dose-naltrexone-paediatric"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 50, "unit": "mg", "frequency": "daily", "route": "oral", "weight_kg": 80},
        {"amount": 380, "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular", "weight_kg": 80},
        {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "oral", "weight_kg": 30},
    ],
)
def test_an_adult_is_never_held_to_the_childrens_limit(client: TestClient, body: dict[str, Any]) -> None:
    data = _check(client, **body, population="adults")
    assert data["indicator"] == "info" and data["documented"], data["summary"]
    assert not {"weight-limit-exceeded", "weight-based-limit"} & _codes(data)
    peds = [m for m in data["matches"] if m["regimen"] == PAEDIATRIC]
    assert peds and all(not m["documents"] and not m["comparable"] and not m["population_fits"] for m in peds)
    assert data["normalized"]["population"] == "adults"


def test_without_a_population_the_childrens_limit_says_whose_it_is_and_how_to_leave_it(client: TestClient) -> None:
    data = _check(client, amount=50, unit="mg", frequency="daily", route="oral", weight_kg=80)
    assert data["indicator"] == "warning" and not data["documented"]  # it may be a child: never reassuring
    exceeded = [w for w in data["warnings"] if w["code"] == "weight-limit-exceeded"]
    assert exceeded and "children" in exceeded[0]["message"] and "population" in exceeded[0]["message"]
    assert data["normalized"]["population"] is None


def test_a_child_on_a_dose_no_childrens_range_documents_is_a_warning(client: TestClient) -> None:
    data = _check(
        client,
        amount=380,
        unit="mg",
        frequency="every 4 weeks",
        route="intramuscular",
        weight_kg=20,
        population="children",
    )
    assert data["indicator"] == "warning" and not data["documented"] and not data["regimens"]
    stated = [w for w in data["warnings"] if w["code"] == "population-not-documented"]
    assert stated and stated[0]["source"], data["warnings"]
    assert "children" in stated[0]["message"] and "labelled dose" not in data["summary"]


def test_a_child_on_the_trials_dose_is_documented_by_it(client: TestClient) -> None:
    data = _check(client, amount=2, unit="mg", frequency="once", route="oral", weight_kg=20, population="children")
    assert data["documented"] and data["indicator"] == "info", data["summary"]
    assert [r["slug"] for r in data["regimens"]] == [PAEDIATRIC]


@pytest.mark.parametrize(("amount", "frequency", "weight"), [(1, "twice daily", 10), (1.5, "three times daily", 20)])
def test_a_daily_total_above_one_administrations_limit_is_never_reassuring(
    client: TestClient, amount: float, frequency: str, weight: float
) -> None:
    """The trial states no frequency: several administrations a day that add up to more than one
    administration may be for this weight are not covered by it, whatever other range holds the amount."""
    for population in (None, "children"):
        body: dict[str, Any] = {"amount": amount, "unit": "mg", "frequency": frequency, "weight_kg": weight}
        if population:
            body["population"] = population
        data = _check(client, **body)
        assert data["indicator"] == "warning" and not data["documented"], data["summary"]
        unchecked = [w for w in data["warnings"] if w["code"] == "weight-limit-daily-total-not-checked"]
        assert unchecked and "states no frequency" in unchecked[0]["message"], data["warnings"]
        assert unchecked[0]["source"] == "smith-2013-crohns-children-pilot"
        assert "(off-label)" not in data["summary"]


def test_once_a_day_within_the_limit_stays_documented(client: TestClient) -> None:
    data = _check(client, amount=1, unit="mg", frequency="daily", weight_kg=10)
    assert data["documented"] and data["indicator"] == "info", data["summary"]
    assert "weight-limit-daily-total-not-checked" not in _codes(data)


@pytest.mark.parametrize("value", ["adult", "kids", "", 3])
def test_an_unknown_population_is_a_422_naming_the_field(client: TestClient, value: object) -> None:
    response = client.post(
        "/v1/dose-check", json={"amount": 4.5, "unit": "mg", "frequency": "daily", "population": value}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["population"]
    got = client.get("/v1/dose-check", params={"amount": 4.5, "unit": "mg", "frequency": "daily", "population": "kids"})
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "population"


def test_the_query_form_reads_the_population(client: TestClient) -> None:
    params = {"amount": "50", "unit": "mg", "frequency": "daily", "route": "oral", "weight_kg": "80"}
    adult = client.get("/v1/dose-check", params={**params, "population": "adults"}).json()["data"]
    unknown = client.get("/v1/dose-check", params=params).json()["data"]
    assert adult["indicator"] == "info" and unknown["indicator"] == "warning"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 30, "unit": "mg", "frequency": "daily", "route": "oral"},  # in no regimen
        {"amount": 500, "unit": "mg", "frequency": "daily", "route": "oral"},  # above every range
    ],
)
def test_the_warnings_that_name_the_label_cite_it(client: TestClient, body: dict[str, Any]) -> None:
    data = _check(client, **body)
    named = [w for w in data["warnings"] if w["code"] in {"not-documented", "above-all-ranges"}]
    assert named and all("The label gives" in w["message"] for w in named)
    assert all(w["source"] for w in named), named


def test_no_ratio_across_dosing_intervals(client: TestClient) -> None:
    """100 mg IM every other day is not "3.7× the label's 380 mg every 4 weeks": the averages of two
    different intervals are not one dose against another."""
    data = _check(client, amount=100, unit="mg", frequency="every other day", route="intramuscular")
    assert "×" not in data["summary"], data["summary"]
    assert data["indicator"] == "warning"
    same_interval = _check(client, amount=150, unit="mg", frequency="daily", route="oral")
    assert "3× the label's 50 mg daily" in same_interval["summary"]


def test_a_route_mismatch_on_another_schedule_says_the_schedule_differs_too(client: TestClient) -> None:
    data = _check(client, amount=190, unit="mg", frequency="every 2 weeks", route="oral")
    mismatch = [w for w in data["warnings"] if w["code"] == "route-mismatch"]
    assert all("schedule" in w["message"] for w in mismatch), mismatch
    assert "documented only for intramuscular use" not in data["summary"], data["summary"]


# --- the same rules over many doses (hypothesis): never reassuring where a rule says not ------------------

NEVER_WITH_INFO = {
    "weight-limit-exceeded",
    "weight-limit-daily-total-not-checked",
    "population-not-documented",
    "schedule-not-documented",
    "not-documented",
    "above-all-ranges",
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.sampled_from(["0.5", "1", "1.5", "2", "3", "4.5", "6", "25", "50", "100", "190", "380"]),
    frequency=st.sampled_from(
        ["daily", "twice daily", "three times daily", "every other day", "weekly", "every 4 weeks"]
    ),
    route=st.sampled_from([None, "oral", "intramuscular"]),
    weight=st.sampled_from([None, "8", "15", "30", "45", "80"]),
    population=st.sampled_from([None, "adults", "children"]),
)
def test_population_and_limits_hold_for_every_dose(
    client: TestClient, amount: str, frequency: str, route: str | None, weight: str | None, population: str | None
) -> None:
    body: dict[str, Any] = {"amount": amount, "unit": "mg", "frequency": frequency}
    for key, value in (("route", route), ("weight_kg", weight), ("population", population)):
        if value is not None:
            body[key] = value
    data = _check(client, **body)
    codes = _codes(data)
    # a match never "documents" a dose the answer says is not documented (a weight limit, a population)
    assert data["documented"] == bool(data["regimens"]) == any(m["documents"] for m in data["matches"]), body
    if data["indicator"] == "info":
        assert data["documented"] and not (codes & NEVER_WITH_INFO), (body, codes)
    children = {m["regimen"] for m in data["matches"] if m["population"] == "children"}
    if population == "children" and data["documented"]:
        assert {r["slug"] for r in data["regimens"]} <= children, body
    if population == "adults":
        assert not [m for m in data["matches"] if m["regimen"] in children and (m["comparable"] or m["documents"])]
        limited = [w for w in data["warnings"] if w["code"].startswith("weight-")]
        assert not limited, (body, limited)
    if weight is not None and population != "adults" and data["documented"]:
        assert not codes & {"weight-limit-exceeded", "weight-limit-daily-total-not-checked"}


@pytest.mark.parametrize(("amount", "frequency"), [(3, "every other day"), (31.5, "weekly"), (4.5, "weekly")])
def test_a_childs_dose_on_another_schedule_never_points_to_an_adults_range(
    client: TestClient, amount: float, frequency: str
) -> None:
    data = _check(client, amount=amount, unit="mg", frequency=frequency, weight_kg=30, population="children")
    assert data["indicator"] == "warning" and not data["documented"]
    assert "documented:" not in data["summary"] and "(documented" not in data["summary"], data["summary"]
    assert "schedule-not-documented" not in _codes(data), data["warnings"]
