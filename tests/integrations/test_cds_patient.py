"""The patient's population from a prefetched Patient's birthDate (a FHIR ``date``: year, month or day)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.integrations.cds_hooks.patient import patient_population

TODAY = date(2026, 11, 29)


def _prefetch(birth: Any) -> dict[str, Any]:
    return {"patient": {"resourceType": "Patient", "id": "p", "birthDate": birth}}


@pytest.mark.parametrize(
    ("birth", "population"),
    [
        ("2008-11-29", "adults"),  # 18 today
        ("2008-11-30", "children"),  # 18 tomorrow
        ("2008-11", None),  # born in November 2008: 18 or not yet
        ("2008-10", "adults"),
        ("2008-12", "children"),
        ("2008", None),
        ("2007", "adults"),
        ("2009", "children"),
        ("1990-02-28", "adults"),
        ("2008-02-29", "adults"),  # 2008 is a leap year: a real day
        ("2007-02-29", None),  # not a date
        ("2008-13", None),
        ("08-11-29", None),
        ("2027-01-01", None),  # after today
        (20081129, None),
        (None, None),
    ],
)
def test_population_from_the_birth_date(birth: Any, population: str | None) -> None:
    assert patient_population(_prefetch(birth), TODAY).population == population


def test_a_29_february_birthday_is_1_march_in_a_common_year() -> None:
    assert patient_population(_prefetch("2008-02-29"), date(2026, 2, 28)).population == "children"
    assert patient_population(_prefetch("2008-02-29"), date(2026, 3, 1)).population == "adults"


@pytest.mark.parametrize("prefetch", [None, {}, {"patient": None}, {"patient": {"resourceType": "Practitioner"}}])
def test_no_patient_is_said(prefetch: Any) -> None:
    found = patient_population(prefetch, TODAY)
    assert found.population is None and "not given" in found.note
