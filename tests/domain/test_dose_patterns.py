"""A range documents only the dosing pattern its source states, and a weight limit exceeded is never reassuring.

A dose whose *average per day* equals a range's is not the range's dose: 190 mg every 2 weeks is not the
label's 380 mg every 4 weeks, 31.5 mg weekly is not 4.5 mg daily, and 350 mg once a week is not the label's
"50 mg weekdays + 100 mg Saturday". Such a dose is not documented, its indicator is a warning, and the
answer says the schedule was not checked. The ranges are the content's examples (tests/domain/test_dosing.py).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.dosing import Dose, DoseInputError, assess, concurrent_schedule, parse_dose, parse_schedule
from tests.domain.test_dosing import ALL

REASSURING = ("labelled dose", "(off-label)", "documented (", "low-dose", "very-low-dose")


def _dose(text: str, route: str | None = "oral", weight: str | None = None) -> Dose:
    """``"4.5 mg daily"`` (amount, unit, frequency) or a weekly schedule (``"50 mg Mon–Fri + 100 mg Sat"``)."""
    if "+" in text or any(day in text for day in ("Monday", "Saturday")):
        return parse_schedule(text, route=route, weight_kg=weight)
    amount, unit, frequency = text.split(" ", 2)
    return parse_dose(amount, unit, frequency, route=route, weight_kg=weight)


# Each has the average per day of a checked range, on a schedule no source states.
OTHER_SCHEDULES = [
    ("190 mg every 2 weeks", "im", None),
    ("760 mg every 8 weeks", "im", None),
    ("350 mg weekly", "oral", None),
    ("350 mg Monday", "oral", None),
    ("175 mg Monday + 175 mg Thursday", "oral", None),
    ("100 mg Mon–Fri + 50 mg Saturday", "oral", None),  # the label's amounts on the wrong days
    ("31.5 mg weekly", "oral", None),
    ("31.5 mg weekly", None, None),
    ("126 mg every 4 weeks", "oral", None),
    ("100 mg every 4 weeks", "oral", None),
    ("9 mg every other day", "oral", None),
    ("13.5 mg every third day", "oral", None),
    ("4.5 mg weekly", "oral", None),
    ("4.5 mg monthly", "oral", None),
    ("4.5 mg mon-fri", "oral", None),
    ("150 mg every other day", "oral", None),
    ("0.1 mg/kg weekly", "oral", "30"),
    ("200 mg every 4 days", "oral", None),
]


@pytest.mark.parametrize(("text", "route", "weight"), OTHER_SCHEDULES)
def test_a_schedule_no_source_states_is_not_documented_and_says_so(
    text: str, route: str | None, weight: str | None
) -> None:
    a = assess(_dose(text, route, weight), ALL)
    c = a.classification
    assert not c.documented and not c.regimens and not c.bands, c.verdict
    assert not [m.range.range_slug for m in c.matches if m.documents]
    assert a.indicator == "warning"
    codes = [w.code for w in a.warnings]
    assert "schedule-not-documented" in codes, codes
    warning = next(w for w in a.warnings if w.code == "schedule-not-documented")
    assert "not checked" in warning.message and a.dose_text in warning.message
    assert "not a documented schedule" in a.summary, a.summary
    assert not any(word in a.summary for word in REASSURING), a.summary
    assert "schedule" in c.verdict


# The schedules the sources state, written as clinicians and EHRs write them.
STATED = [
    ("4.5 mg daily", "oral", "low-dose"),
    ("4.5 mg qhs", None, "low-dose"),
    ("4.5 mg mon-sun", "oral", "low-dose"),  # every day of the week is daily
    ("1 mg twice daily", "oral", "low-dose"),  # a daily amount, in two administrations a day
    ("0.5 ug daily", "oral", "ultra-low-dose"),
    ("0.5 mg daily", "oral", "very-low-dose"),
    ("50 mg daily", "oral", "standard-oral"),
    ("25 mg twice daily", "oral", "standard-oral"),
    ("100 mg every other day", "oral", "standard-oral"),
    ("150 mg every third day", "oral", "standard-oral"),
    ("50 mg weekdays + 100 mg Saturday", "oral", "standard-oral"),
    ("50 mg Mon, Tue, Wed, Thu, Fri + 100 mg Saturday", None, "standard-oral"),
    ("380 mg every 4 weeks", "im", "extended-release-injectable"),
    ("380 mg monthly", "intramuscular", "extended-release-injectable"),
    ("380 mg once", "im", "extended-release-injectable"),  # one administration of the labelled dose
]


def test_one_administration_of_a_weekly_total_is_not_the_stated_schedule() -> None:
    """350 mg once is the label's weekly total, not any administration of its schedule (50 or 100 mg)."""
    a = assess(_dose("350 mg once", "oral"), ALL)
    assert not a.classification.documented and a.indicator == "warning"
    assert "labelled dose" not in a.summary and "documented (" not in a.summary


@pytest.mark.parametrize(("text", "route", "band"), STATED)
def test_the_schedules_the_sources_state_stay_documented(text: str, route: str | None, band: str) -> None:
    a = assess(_dose(text, route), ALL)
    assert a.classification.documented, a.classification.verdict
    assert band in a.classification.bands
    assert a.indicator == "info"
    assert "schedule-not-documented" not in [w.code for w in a.warnings]


def test_a_dose_above_every_range_on_another_schedule_is_still_above() -> None:
    a = assess(_dose("1000 mg weekly", "oral"), ALL)
    assert a.classification.above_all and a.indicator == "warning"
    assert "above-all-ranges" in [w.code for w in a.warnings]


def test_the_schedule_warning_names_the_sources_schedule() -> None:
    a = assess(_dose("190 mg every 2 weeks", "im"), ALL)
    warning = next(w for w in a.warnings if w.code == "schedule-not-documented")
    assert "380 mg every 4 weeks" in warning.message and warning.range_slug == "vivitrol-380"
    assert "380 mg every 4 weeks" in a.summary and len(a.summary) < 140


# --- a weight-based limit exceeded is a warning, whatever else documents the amount ---------------------


@pytest.mark.parametrize(
    ("text", "weight", "exceeded"),
    [
        ("4.5 mg daily", "20", True),  # 0.1 mg/kg x 20 kg = 2 mg
        ("4.5 mg daily", "40", True),  # 4 mg
        ("3 mg daily", "20", True),
        ("4.5 mg daily", "45", False),  # 4.5 mg: at the limit
        ("4.5 mg daily", "70", False),  # 7 mg, capped at 4.5 mg
        ("2 mg daily", "20", False),
    ],
)
def test_a_weight_limit_exceeded_is_a_warning_and_never_documented(text: str, weight: str, exceeded: bool) -> None:
    a = assess(_dose(text, "oral", weight), ALL)
    codes = [w.code for w in a.warnings]
    assert ("weight-limit-exceeded" in codes) is exceeded
    if exceeded:
        assert a.indicator == "warning"
        assert not a.classification.documented and not a.classification.regimens
        assert "weight-based limit" in a.summary and Decimal(weight) == a.dose.weight_kg, a.summary
        assert not any(word in a.summary for word in REASSURING), a.summary
        assert "weight-based limit" in a.classification.verdict
    else:
        assert a.indicator == "info" and a.classification.documented


# --- doses taken at the same time (FHIR dosage lines sharing a sequence): one schedule, one total -------


@pytest.mark.parametrize(
    ("doses", "schedule", "mg_per_day"),
    [
        (["4.5 mg daily", "50 mg daily"], "4.5 mg daily + 50 mg daily", "54.5"),
        (["1 mg twice daily", "2.5 mg daily"], "1 mg daily + 1 mg daily + 2.5 mg daily", "4.5"),
        (["50 mg weekdays", "100 mg saturday"], "50 mg Mon–Fri + 100 mg Sat", "50"),
        (["0.5 g daily", "500 ug daily"], "500 mg daily + 0.5 mg daily", "500.5"),
    ],
)
def test_doses_taken_together_are_one_schedule_with_their_total(
    doses: list[str], schedule: str, mg_per_day: str
) -> None:
    text = concurrent_schedule([_dose(d) for d in doses])
    assert text == schedule
    together = parse_schedule(text, route="oral")
    assert together.mg_per_day == Decimal(mg_per_day)


@pytest.mark.parametrize(
    ("doses", "field"),
    [
        (["4.5 mg daily", "50 mg every other day"], "frequency"),
        (["380 mg every 4 weeks", "4.5 mg daily"], "frequency"),
        (["25 mg once", "50 mg daily"], "frequency"),
    ],
)
def test_doses_that_cannot_be_added_up_say_why(doses: list[str], field: str) -> None:
    with pytest.raises(DoseInputError) as raised:
        concurrent_schedule([_dose(d) for d in doses])
    assert raised.value.field == field


def test_doses_taken_together_on_two_routes_are_not_added_up() -> None:
    with pytest.raises(DoseInputError) as raised:
        concurrent_schedule([_dose("4.5 mg daily", "oral"), _dose("4.5 mg daily", "im")])
    assert raised.value.field == "route"
