"""The decision rules (app.domain.dosing.rules) as pure functions: ranking, indicator, wording.

The ranges are the content's example ranges, built in tests/domain/test_dosing.py (checked ones with
their primary/secondary status, the seed article's figures as article claims).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.dosing import (
    DoseInputError,
    RangeSpec,
    cds_indicator,
    classify,
    clinician_summary,
    dose_phrase,
    dose_warnings,
    is_checked,
    parse_dose,
    parse_schedule,
)
from tests.domain.test_dosing import ALL

D = Decimal


def _indicator(amount: str, unit: str, frequency: str, route: str | None, weight: str | None, opioid: bool) -> str:
    try:
        dose = parse_dose(amount, unit, frequency, route=route, weight_kg=weight)
    except DoseInputError:
        return cds_indicator(opioid_conflict=opioid, assessable=False, documented=False)
    c = classify(dose, ALL)
    return cds_indicator(
        opioid_conflict=opioid,
        assessable=True,
        documented=c.documented,
        above_all_checked=c.above_all,
        claimed_only=bool(c.claimed_only_by) and not c.documented,
    )


# --- ranking: documented only by a checked range ------------------------------------------------------

RANKING = [
    # amount, unit, frequency, route, documented, claimed_only_by (range slugs), regimens
    ("150", "mg", "daily", "oral", False, ("article-50-200",), ()),
    ("200", "mg", "daily", "oral", False, ("article-50-200",), ()),
    ("150", "mg", "daily", None, False, ("article-50-200",), ()),
    ("0.15", "g", "daily", "po", False, ("article-50-200",), ()),
    ("199.999", "mg", "daily", "oral", False, ("article-50-200",), ()),
    ("100.000001", "mg", "daily", "oral", False, ("article-50-200",), ()),
    ("250", "mg", "daily", "oral", False, (), ()),
    ("100", "mg", "daily", "oral", True, ("article-50-200",), ("naltrexone-oral-addiction",)),
    ("50", "mg", "daily", "oral", True, ("article-50-200",), ("naltrexone-oral-addiction",)),
    ("75", "mg", "daily", "oral", True, ("article-50-200",), ("naltrexone-oral-addiction",)),
    # the label's alternatives: the article's "50 to 200 mg daily" states a daily dose, not these
    ("150", "mg", "every third day", "oral", True, (), ("naltrexone-oral-addiction",)),
    ("100", "mg", "every other day", "oral", True, (), ("naltrexone-oral-addiction",)),
    ("4.5", "mg", "daily", "oral", True, (), ("ldn",)),
    ("3", "mg", "daily", "oral", True, ("article-under-4",), ("ldn",)),
    ("1", "mg", "twice daily", "oral", True, ("article-under-4",), ("ldn",)),
    ("0.5", "mg", "daily", "oral", True, ("article-under-4",), ("ldn-very-low",)),
    ("0.5", "ug", "daily", "oral", True, ("article-under-4",), ("ldn-ultra-low",)),
    ("10", "mg", "daily", "oral", False, (), ()),
    ("4.5", "mg", "daily", "intramuscular", False, (), ()),
    ("380", "mg", "every 4 weeks", "im", True, (), ("naltrexone-er-injectable",)),
    ("380", "mg", "monthly", "intramuscular", True, (), ("naltrexone-er-injectable",)),
    ("380", "mg", "every 2 weeks", "intramuscular", False, (), ()),
]


@pytest.mark.parametrize(("amount", "unit", "frequency", "route", "documented", "claimed", "regimens"), RANKING)
def test_only_checked_ranges_document_a_dose(
    amount: str,
    unit: str,
    frequency: str,
    route: str | None,
    documented: bool,
    claimed: tuple[str, ...],
    regimens: tuple[str, ...],
) -> None:
    c = classify(parse_dose(amount, unit, frequency, route=route), ALL)
    assert c.documented is documented
    assert tuple(m.range.range_slug for m in c.claimed_only_by) == claimed
    assert c.regimens == regimens
    # an article claim never puts a dose in a regimen, documents it or appears in its "inside" verdict
    assert all(m.range.checked for m in c.matches if m.documents)
    assert all(not m.range.checked for m in c.claimed_only_by)
    for m in c.claimed_only_by:
        assert f"inside the {m.range.band} range of" not in c.verdict.split("only claimed")[0] or c.documented
        assert "only claimed, not checked: “vardeman-ldn”" in c.verdict


@pytest.mark.parametrize(
    ("verification", "checked"),
    [
        ("primary", True),
        ("secondary", True),
        ("article-claim", False),
        (None, False),
        ("unverified", False),
        ("", False),
    ],
)
def test_is_checked(verification: str | None, checked: bool) -> None:
    assert is_checked(verification) is checked


def test_150_mg_daily_warns_naming_the_labelled_50_mg() -> None:
    c = classify(parse_dose("150", "mg", "daily", route="oral"), ALL)
    codes = [w.code for w in dose_warnings(c)]
    assert codes == ["claimed-only", "above-all-ranges"]
    above = next(w for w in dose_warnings(c) if w.code == "above-all-ranges")
    assert "The label gives 50 mg daily (revia-label)" in above.message
    assert "approved" not in c.verdict


# --- the indicator ----------------------------------------------------------------------------------

INDICATOR_RULE = [
    # opioid, assessable, documented, above_all_checked, claimed_only -> indicator
    (True, True, True, False, False, "critical"),
    (True, False, False, False, False, "critical"),
    (True, True, False, True, True, "critical"),
    (False, False, False, False, False, "warning"),
    (False, False, True, False, False, "warning"),
    (False, True, False, False, False, "warning"),
    (False, True, False, True, False, "warning"),
    (False, True, False, False, True, "warning"),
    (False, True, False, True, True, "warning"),
    (False, True, True, True, False, "warning"),
    (False, True, True, False, True, "warning"),
    (False, True, True, False, False, "info"),
]


@pytest.mark.parametrize(("opioid", "assessable", "documented", "above", "claimed", "expected"), INDICATOR_RULE)
def test_indicator_rule(
    opioid: bool, assessable: bool, documented: bool, above: bool, claimed: bool, expected: str
) -> None:
    indicator = cds_indicator(
        opioid_conflict=opioid,
        assessable=assessable,
        documented=documented,
        above_all_checked=above,
        claimed_only=claimed,
    )
    assert indicator == expected


INDICATOR_DOSES = [
    # amount, unit, frequency, route, weight, opioid -> indicator
    ("150", "mg", "daily", "oral", None, False, "warning"),
    ("200", "mg", "daily", "oral", None, False, "warning"),
    ("250", "mg", "daily", "oral", None, False, "warning"),
    ("50", "mg", "daily", "oral", None, False, "info"),
    ("50", "mg", "daily", "oral", None, True, "critical"),
    ("4.5", "mg", "daily", "oral", None, True, "critical"),
    ("4.5", "mg", "daily", "oral", None, False, "info"),
    ("4.5", "mg", "nightly", None, None, False, "info"),
    ("1", "mg", "bid", "oral", None, False, "info"),
    ("10", "mg", "daily", "oral", None, False, "warning"),
    ("4.5", "mg", "daily", "im", None, False, "warning"),
    ("380", "mg", "every 4 weeks", "im", None, False, "info"),
    ("380", "mg", "every 4 weeks", "im", None, True, "critical"),
    ("380", "mg", "weekly", "im", None, False, "warning"),
    ("100", "mg", "every other day", "oral", None, False, "info"),
    ("150", "mg", "every third day", "oral", None, False, "info"),
    ("0.1", "mg/kg", "daily", "oral", "30", False, "info"),
    ("0.1", "mg/kg", "daily", "oral", None, False, "warning"),  # no weight: not assessable
    ("0.1", "mg/kg", "daily", "oral", None, True, "critical"),
    ("0.5", "ug", "daily", "oral", None, False, "info"),
]


@pytest.mark.parametrize(("amount", "unit", "frequency", "route", "weight", "opioid", "expected"), INDICATOR_DOSES)
def test_indicator_for_doses(
    amount: str, unit: str, frequency: str, route: str | None, weight: str | None, opioid: bool, expected: str
) -> None:
    assert _indicator(amount, unit, frequency, route, weight, opioid) == expected


# --- wording: the dose phrase and the clinician summary -----------------------------------------------

PHRASES = [
    ("380", "mg", "every 4 weeks", "380 mg every 4 weeks"),
    ("380", "mg", "monthly", "380 mg every 4 weeks"),
    ("380", "mg", "q4w", "380 mg every 4 weeks"),
    ("4.5", "mg", "daily", "4.5 mg daily"),
    ("4.50", "mg", "once daily", "4.5 mg daily"),
    ("4.5", "mg", "qhs", "4.5 mg daily"),
    ("1", "mg", "twice daily", "1 mg twice daily"),
    ("1", "mg", "bid", "1 mg twice daily"),
    ("1", "mg", "tid", "1 mg three times daily"),
    ("1", "mg", "qid", "1 mg four times daily"),
    ("1", "mg", "every 8 hours", "1 mg three times daily"),
    ("1", "mg", "q6h", "1 mg four times daily"),
    ("1", "mg", "5 times a day", "1 mg 5 times daily"),
    ("1", "mg", "every 36 hours", "1 mg twice every 3 days"),
    ("100", "mg", "every other day", "100 mg every other day"),
    ("150", "mg", "every third day", "150 mg every 3 days"),
    ("50", "mg", "weekly", "50 mg weekly"),
    ("50", "mg", "every 2 weeks", "50 mg every 2 weeks"),
    ("50", "mg", "twice weekly", "50 mg twice a week"),
    ("50", "mg", "once", "50 mg once"),
    ("50", "mg", "mon/wed/fri", "50 mg Mon, Wed, Fri"),
    ("50", "mg", "weekdays", "50 mg Mon–Fri"),
    ("0.5", "ug", "daily", "0.5 µg daily"),
    ("500", "mcg", "daily", "500 µg daily"),
    ("0.0001", "mg", "daily", "0.0001 mg daily"),
    ("1E+2", "mg", "daily", "100 mg daily"),
]


@pytest.mark.parametrize(("amount", "unit", "frequency", "expected"), PHRASES)
def test_dose_phrase(amount: str, unit: str, frequency: str, expected: str) -> None:
    assert dose_phrase(parse_dose(amount, unit, frequency)) == expected


def test_dose_phrase_of_a_schedule_and_a_weight_based_dose() -> None:
    assert dose_phrase(parse_schedule("50 mg weekdays + 100 mg Saturday")) == "50 mg Mon–Fri + 100 mg Sat"
    assert dose_phrase(parse_dose("0.1", "mg/kg", "daily", weight_kg="30")) == "0.1 mg/kg (3 mg) daily"


SUMMARIES = [
    (
        "150",
        "mg",
        "daily",
        "oral",
        "Naltrexone 150 mg daily is 3× the label's 50 mg daily; only an article claims this dose",
    ),
    (
        "200",
        "mg",
        "daily",
        "oral",
        "Naltrexone 200 mg daily is 4× the label's 50 mg daily; only an article claims this dose",
    ),
    ("250", "mg", "daily", "oral", "Naltrexone 250 mg daily is 5× the label's 50 mg daily"),
    (
        "150",
        "mg",
        "daily",
        None,
        "Naltrexone 150 mg daily is 3× the label's 50 mg daily; only an article claims this dose",
    ),
    ("380", "mg", "every 4 weeks", "im", "Naltrexone 380 mg IM every 4 weeks: labelled dose"),
    ("380", "mg", "monthly", "intramuscular", "Naltrexone 380 mg IM every 4 weeks: labelled dose"),
    (
        "380",
        "mg",
        "every 2 weeks",
        "im",
        "Naltrexone 380 mg IM every 2 weeks is 2× as often as the label's 380 mg every 4 weeks",
    ),
    # no ratio of averages across dosing intervals (the audit: "3.7× the label's 380 mg every 4 weeks")
    ("100", "mg", "every other day", "im", "Naltrexone 100 mg IM every other day: documented only for oral use"),
    ("190", "mg", "weekly", "im", "Naltrexone 190 mg IM weekly: above every checked range"),
    ("50", "mg", "daily", "oral", "Naltrexone 50 mg daily: labelled dose"),
    ("4.5", "mg", "daily", "oral", "Naltrexone 4.5 mg daily: low-dose (off-label)"),
    ("1", "mg", "twice daily", "oral", "Naltrexone 1 mg twice daily: low-dose (off-label)"),
    (
        "0.5",
        "ug",
        "daily",
        None,
        "Naltrexone 0.5 µg daily: ultra-low-dose (off-label) (route not given: documented for oral use)",
    ),
    ("10", "mg", "daily", "oral", "Naltrexone 10 mg daily: in no documented regimen"),
    ("50", "mg", "mon-fri", None, "Naltrexone 50 mg Mon–Fri: in no documented regimen"),
    ("100", "mg", "mon/wed/fri", None, "Naltrexone 100 mg Mon, Wed, Fri: in no documented regimen"),
    ("300", "mg", "weekly", "oral", "Naltrexone 300 mg weekly: in no documented regimen"),
    ("300", "mg", "weekly", None, "Naltrexone 300 mg weekly: in no documented regimen"),
    ("760", "mg", "every 4 weeks", None, "Naltrexone 760 mg every 4 weeks is 2× the label's 380 mg every 4 weeks"),
    ("4.5", "mg", "daily", "im", "Naltrexone 4.5 mg IM daily: documented only for oral use"),
    (
        "100",
        "mg",
        "daily",
        "oral",
        "Naltrexone 100 mg daily: documented (50–100 mg daily); 2× the label's 50 mg daily",
    ),
    # a labelled alternative, not the reference (50 mg daily): documented, named as it is
    ("100", "mg", "every other day", "oral", "Naltrexone 100 mg every other day: documented (100 mg every other day)"),
    ("4.5", "mg", "daily", "subcutaneous", "Naltrexone 4.5 mg SC daily: documented only for oral use"),
]


@pytest.mark.parametrize(("amount", "unit", "frequency", "route", "expected"), SUMMARIES)
def test_clinician_summary(amount: str, unit: str, frequency: str, route: str | None, expected: str) -> None:
    summary = clinician_summary(classify(parse_dose(amount, unit, frequency, route=route), ALL))
    assert summary == expected
    assert len(summary) < 140


def test_summary_never_shows_an_average_per_day() -> None:
    summary = clinician_summary(classify(parse_dose("380", "mg", "every 4 weeks", route="im"), ALL))
    assert "mg/day" not in summary and "13.57" not in summary


_AMOUNTS = st.decimals(min_value=D("0.001"), max_value=D(5000), places=3, allow_nan=False, allow_infinity=False)
_FREQUENCIES = st.sampled_from(["daily", "bid", "tid", "every other day", "weekly", "every 4 weeks", "once", "mon-fri"])


@settings(max_examples=200, deadline=None)
@given(
    amount=_AMOUNTS,
    unit=st.sampled_from(["mg", "ug"]),
    frequency=_FREQUENCIES,
    route=st.sampled_from([None, "oral", "im"]),
)
def test_summary_is_short_and_plain_for_any_dose(amount: Decimal, unit: str, frequency: str, route: str | None) -> None:
    try:
        dose = parse_dose(amount, unit, frequency, route=route)
    except DoseInputError:
        return
    c = classify(dose, ALL)
    summary = clinician_summary(c)
    assert 0 < len(summary) < 140
    assert summary.startswith("Naltrexone ")
    assert "mg/day" not in summary and "E+" not in summary and "E-" not in summary
    if not c.documented:
        assert "labelled dose" not in summary and "(off-label)" not in summary


# --- a range that states no frequency (the paediatric trial's 0.1 mg/kg, maximum 4.5 mg) ----------------

PEDS_UNSTATED = RangeSpec(
    "ldn-weight-based", "low-dose-weight-based", "oral", "smith-peds", "smith-2013", "0.1 mg/kg, max 4.5 mg",
    min=D("0.1"), max=D("0.1"), unit="mg/kg", cap=D("4.5"), cap_unit="mg", per="administration-only",
    verification="primary", approval_status="off-label",
)  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "frequency", "weight", "position", "documented", "exceeded"),
    [
        ("4.5", "once", "50", "inside", True, False),  # a single administration is judged
        ("3", "once", "30", "inside", True, False),
        ("4.5", "twice daily", "50", "inside", False, False),  # per administration fits; no frequency to judge
        ("4.5", "daily", "50", "inside", False, False),
        ("6", "daily", "30", "above", False, True),  # one administration above 0.1 mg/kg x 30 kg: flagged
        ("5", "once", "60", "above", False, True),  # above the 4.5 mg cap
    ],
)
def test_a_range_without_a_frequency_judges_one_administration_only(
    amount: str, frequency: str, weight: str, position: str, documented: bool, exceeded: bool
) -> None:
    c = classify(parse_dose(amount, "mg", frequency, weight_kg=weight), (PEDS_UNSTATED,))
    (m,) = c.matches
    assert m.position == position and m.basis == "per-administration"
    assert c.documented is documented
    assert m.mg_per_day_max is None
    codes = [w.code for w in dose_warnings(c)]
    assert ("weight-limit-exceeded" in codes) is exceeded
    if position == "inside" and not documented:
        assert "states no frequency" in c.verdict
