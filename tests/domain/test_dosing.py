"""Dose arithmetic: units, frequencies, band edges, label schedules, routes, weights, bad input, properties.

The ranges are built here from the example ranges of the content (the domain module holds none).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.dosing import (
    Dose,
    DoseInputError,
    RangeSpec,
    classify,
    dose_warnings,
    from_mg,
    match_range,
    normalise_unit,
    parse_days,
    parse_dose,
    parse_frequency,
    parse_route,
    parse_schedule,
    route_mismatch,
    to_mg,
    weight_based_check,
)

D = Decimal

# --- fixtures: the example ranges of the content -------------------------------------------------

ULTRA = RangeSpec(
    "ldn-ultra-low", "ultra-low-dose", "oral", "toljan-uldn", "toljan-2018", "under 1 µg/day",
    max=D(1), max_inclusive=False, unit="ug", verification="primary", approval_status="off-label",
)  # fmt: skip
VERY = RangeSpec(
    "ldn-very-low", "very-low-dose", "oral", "toljan-vldn", "toljan-2018", "1 µg–1 mg/day",
    min=D(1), max=D(1000), unit="ug", verification="primary", approval_status="off-label",
)  # fmt: skip
ARTICLE_LDN = RangeSpec(
    "ldn", "low-dose", "oral", "article-under-4", "vardeman-ldn", "less than 4 mg daily",
    max=D(4), max_inclusive=False, verification="article-claim", approval_status="off-label",
)  # fmt: skip
TOLJAN_LDN = RangeSpec(
    "ldn",
    "low-dose",
    "oral",
    "toljan-ldn",
    "toljan-2018",
    "1–5 mg/day",
    min=D(1),
    max=D(5),
    verification="primary",
    approval_status="off-label",
)
YOUNGER = RangeSpec(
    "ldn",
    "low-dose",
    "oral",
    "younger-most-studied",
    "younger-2014",
    "4.5 mg daily",
    min=D("4.5"),
    max=D("4.5"),
    verification="primary",
    approval_status="off-label",
)
PEDS = RangeSpec(
    "ldn-weight-based", "low-dose-weight-based", "oral", "smith-peds", "smith-2013", "0.1 mg/kg, max 4.5 mg",
    min=D("0.1"), max=D("0.1"), unit="mg/kg", cap=D("4.5"), cap_unit="mg", verification="primary",
    approval_status="off-label",
)  # fmt: skip
STD = "naltrexone-oral-addiction"
LABEL_DAILY = RangeSpec(
    STD,
    "standard-oral",
    "oral",
    "label-50-daily",
    "revia-label",
    "50 mg daily",
    min=D(50),
    max=D(50),
    verification="primary",
    is_reference=True,
    approval_status="approved",
)
LABEL_QOD = RangeSpec(
    STD, "standard-oral", "oral", "label-100-qod", "revia-label", "100 mg every other day",
    min=D(100), max=D(100), period_value=D(2), verification="secondary", approval_status="approved",
)  # fmt: skip
LABEL_Q3D = RangeSpec(
    STD, "standard-oral", "oral", "label-150-q3d", "revia-label", "150 mg every third day",
    min=D(150), max=D(150), period_value=D(3), verification="secondary", approval_status="approved",
)  # fmt: skip
LABEL_WEEK = RangeSpec(
    STD, "standard-oral", "oral", "label-350-week", "revia-label", "50 mg weekdays + 100 mg Saturday",
    min=D(350), max=D(350), period_unit="wk", schedule="50 mg weekdays + 100 mg Saturday",
    verification="secondary", approval_status="approved",
)  # fmt: skip
REVIEW_50_100 = RangeSpec(
    STD,
    "standard-oral",
    "oral",
    "review-50-100",
    "younger-2014",
    "50–100 mg daily",
    min=D(50),
    max=D(100),
    verification="primary",
    approval_status="approved",
)
ARTICLE_50_200 = RangeSpec(
    STD,
    "standard-oral",
    "oral",
    "article-50-200",
    "vardeman-ldn",
    "50 to 200 mg daily",
    min=D(50),
    max=D(200),
    verification="article-claim",
    approval_status="approved",
)
INJECTABLE = RangeSpec(
    "naltrexone-er-injectable", "extended-release-injectable", "intramuscular", "vivitrol-380", "vivitrol-label",
    "380 mg every 4 weeks", min=D(380), max=D(380), period_value=D(4), period_unit="wk",
    verification="secondary", is_reference=True, approval_status="approved",
)  # fmt: skip

LOW = (ARTICLE_LDN, TOLJAN_LDN, YOUNGER)
STANDARD = (LABEL_DAILY, LABEL_QOD, LABEL_Q3D, LABEL_WEEK, REVIEW_50_100, ARTICLE_50_200)
ALL = (ULTRA, VERY, *LOW, PEDS, *STANDARD, INJECTABLE)


def position(amount: str, unit: str, frequency: str, rng: RangeSpec, **kw: object) -> str | None:
    dose = parse_dose(amount, unit, frequency, **kw)  # type: ignore[arg-type]
    return match_range(dose, rng).position


# --- band edges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "rng", "expected"),
    [
        # ultra-low: under 1 µg/day, exclusive
        ("0.5", "ug", ULTRA, "inside"),
        ("0.999999", "ug", ULTRA, "inside"),
        ("1", "ug", ULTRA, "above"),
        ("1.000001", "ug", ULTRA, "above"),
        # very low: 1 µg – 1000 µg/day inclusive
        ("0.999999", "ug", VERY, "below"),
        ("1", "ug", VERY, "inside"),
        ("1000", "ug", VERY, "inside"),
        ("1", "mg", VERY, "inside"),
        ("1000.000001", "ug", VERY, "above"),
        ("1.000001", "mg", VERY, "above"),
        # review: 1–5 mg/day inclusive
        ("0.999999", "mg", TOLJAN_LDN, "below"),
        ("1", "mg", TOLJAN_LDN, "inside"),
        ("1000", "ug", TOLJAN_LDN, "inside"),
        ("5", "mg", TOLJAN_LDN, "inside"),
        ("5.000001", "mg", TOLJAN_LDN, "above"),
        # article: less than 4 mg, exclusive, open below
        ("0.000001", "mg", ARTICLE_LDN, "inside"),
        ("3.999999", "mg", ARTICLE_LDN, "inside"),
        ("3.99999999999", "mg", ARTICLE_LDN, "inside"),
        ("4", "mg", ARTICLE_LDN, "above"),
        ("4000", "ug", ARTICLE_LDN, "above"),
        ("4.000001", "mg", ARTICLE_LDN, "above"),
        # most studied: exactly 4.5 mg
        ("4.499999", "mg", YOUNGER, "below"),
        ("4.5", "mg", YOUNGER, "inside"),
        ("4500", "ug", YOUNGER, "inside"),
        ("4.500001", "mg", YOUNGER, "above"),
        # label 50 mg daily, article 50–200 mg daily
        ("49.999999", "mg", LABEL_DAILY, "below"),
        ("50", "mg", LABEL_DAILY, "inside"),
        ("50.000001", "mg", LABEL_DAILY, "above"),
        ("49.999999", "mg", ARTICLE_50_200, "below"),
        ("200", "mg", ARTICLE_50_200, "inside"),
        ("0.2", "g", ARTICLE_50_200, "inside"),
        ("200.000001", "mg", ARTICLE_50_200, "above"),
        ("100", "mg", REVIEW_50_100, "inside"),
        ("100.000001", "mg", REVIEW_50_100, "above"),
    ],
)
def test_band_edges_daily(amount: str, unit: str, rng: RangeSpec, expected: str) -> None:
    assert position(amount, unit, "daily", rng) == expected


@pytest.mark.parametrize(
    ("amount", "frequency", "rng", "expected"),
    [
        ("380", "every 4 weeks", INJECTABLE, "inside"),
        ("380", "monthly", INJECTABLE, "inside"),
        ("379.999999", "every 4 weeks", INJECTABLE, "below"),
        ("380.000001", "every 4 weeks", INJECTABLE, "above"),
        ("380", "every 3 weeks", INJECTABLE, "above"),
        ("100", "every other day", LABEL_QOD, "inside"),
        ("99.999999", "every other day", LABEL_QOD, "below"),
        ("100.000001", "qod", LABEL_QOD, "above"),
        ("150", "every third day", LABEL_Q3D, "inside"),
        ("149.999999", "every 3 days", LABEL_Q3D, "below"),
        ("350", "weekly", LABEL_WEEK, "inside"),
        ("350.000001", "once a week", LABEL_WEEK, "above"),
    ],
)
def test_band_edges_periods(amount: str, frequency: str, rng: RangeSpec, expected: str) -> None:
    assert position(amount, "mg", frequency, rng) == expected


@pytest.mark.parametrize(
    ("amount", "weight", "expected"),
    [
        ("3", "30", "inside"),  # 0.1 mg/kg × 30 kg = 3 mg
        ("2.999999", "30", "below"),
        ("3.000001", "30", "above"),
        ("4.5", "45", "inside"),  # exactly the cap
        ("4.5", "60", "inside"),  # 6 mg capped at 4.5 mg
        ("4.499999", "60", "below"),
        ("4.500001", "60", "above"),
        ("6", "60", "above"),
    ],
)
def test_weight_based_range_in_mg_with_weight_and_cap(amount: str, weight: str, expected: str) -> None:
    assert position(amount, "mg", "daily", PEDS, weight_kg=weight) == expected


@pytest.mark.parametrize(
    ("amount", "weight", "expected"),
    [("0.1", "30", "inside"), ("0.099999", "30", "below"), ("0.100001", "30", "above"), ("0.1", "60", "above")],
)
def test_weight_based_dose_against_weight_based_range(amount: str, weight: str, expected: str) -> None:
    assert position(amount, "mg/kg", "daily", PEDS, weight_kg=weight) == expected


def test_weight_based_range_without_weight_is_not_comparable() -> None:
    match = match_range(parse_dose("3", "mg", "daily"), PEDS)
    assert match.position is None
    assert match.comparable is False
    assert "body weight" in match.note


def test_match_bounds_are_reported_in_mg_per_day() -> None:
    m = match_range(parse_dose("4.5", "mg", "daily"), LABEL_WEEK)
    assert (m.mg_min, m.mg_max, m.period_days) == (D(350), D(350), D(7))
    assert (m.mg_per_day_min, m.mg_per_day_max) == (D(50), D(50))
    m = match_range(parse_dose("4.5", "mg", "daily"), INJECTABLE)
    assert m.mg_per_day_max == D("13.571429")
    m = match_range(parse_dose("5", "mg", "daily", weight_kg="60"), PEDS)
    assert (m.mg_min, m.mg_max, m.capped) == (D("4.5"), D("4.5"), True)
    assert "0.1 mg/kg × 60 kg = 6 mg" in m.note
    assert "capped at 4.5 mg" in m.note


# --- disagreement between sources ----------------------------------------------------------------


def test_most_studied_dose_gets_one_verdict_per_source() -> None:
    c = classify(parse_dose("4.5", "mg", "daily", route="oral"), LOW)
    assert [m.position for m in c.matches] == ["above", "inside", "inside"]
    assert [m.range.range_slug for m in c.matches] == ["article-under-4", "toljan-ldn", "younger-most-studied"]
    assert c.documented is True
    assert c.regimens == ("ldn",)
    assert c.bands == ("low-dose",)
    assert not c.above_all and not c.below_all
    assert c.verdict == (
        "inside the low-dose range of 2 checked sources (toljan-2018; younger-2014); "
        "above vardeman-ldn: 'less than 4 mg daily' (unchecked claim)"
    )


def test_one_microgram_is_very_low_not_ultra_low() -> None:
    c = classify(parse_dose("1", "ug", "daily"), (ULTRA, VERY))
    assert [m.position for m in c.matches] == ["above", "inside"]
    assert c.regimens == ("ldn-very-low",)


# --- label schedules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "frequency", "per_day"),
    [("50", "daily", "50"), ("100", "every other day", "50"), ("150", "every third day", "50")],
)
def test_label_alternatives_are_inside_every_label_range(amount: str, frequency: str, per_day: str) -> None:
    dose = parse_dose(amount, "mg", frequency, route="po")
    assert dose.mg_per_day == D(per_day)
    c = classify(dose, (*STANDARD, *LOW))
    positions = {m.range.range_slug: m.position for m in c.matches}
    for rng in STANDARD:
        assert positions[rng.range_slug] == "inside", rng.range_slug
    for rng in LOW:
        assert positions[rng.range_slug] == "above"
    assert c.regimens == (STD,)


@pytest.mark.parametrize(
    ("schedule", "documented"),
    [
        ("50 mg weekdays + 100 mg Saturday", True),
        ("50 mg Mon-Fri, 100 mg Sat", True),
        ("50mg monday to friday plus 100mg saturdays", True),
        ([("50", "mg", "weekdays"), ("100", "mg", [5])], True),
        # The same 350 mg a week, on a schedule the reference facts do not state: its amount per week
        # lies inside every range, but no range documents it (a range documents its source's pattern).
        ("100 mg Monday and Wednesday; 150 mg Friday", False),
    ],
)
def test_weekly_schedules(schedule: str | list[tuple[str, str, str | list[int]]], documented: bool) -> None:
    dose = parse_schedule(schedule, route="oral")
    assert dose.mg_per_period == D(350)
    assert dose.period_days == D(7)
    assert dose.mg_per_day == D(50)
    c = classify(dose, STANDARD)
    assert all(m.position == "inside" for m in c.matches)
    assert c.documented is documented
    assert [m.range.range_slug for m in c.matches if m.documents] == (["label-350-week"] if documented else [])


def test_weekly_schedule_fields() -> None:
    dose = parse_schedule("50 mg weekdays + 100 mg saturday")
    assert dose.administrations_per_period == 6
    assert dose.mg_per_administration == D(100)
    assert dose.mg_per_administration_min == D(50)
    assert dose.days_of_week == (0, 1, 2, 3, 4, 5)
    assert [e.days for e in dose.schedule] == [(0, 1, 2, 3, 4), (5,)]
    assert dose.frequency_description == "50 mg Mon–Fri + 100 mg Sat (6 per 7 d)"


def test_same_amount_on_named_days_through_parse_dose() -> None:
    dose = parse_dose("50", "mg", "weekdays plus Saturday")
    assert dose.administrations_per_period == 6
    assert dose.mg_per_period == D(300)
    assert dose.days_of_week == (0, 1, 2, 3, 4, 5)
    assert match_range(dose, LABEL_WEEK).position == "below"


def test_injectable_documented_only_intramuscular() -> None:
    im = classify(parse_dose("380", "mg", "every 4 weeks", route="IM"), ALL)
    assert im.documented
    assert im.regimens == ("naltrexone-er-injectable",)
    assert all(not m.comparable for m in im.matches if m.range.route == "oral")

    oral = classify(parse_dose("380", "mg", "every 4 weeks", route="oral"), ALL)
    inj = oral.matches[-1]
    assert (inj.position, inj.comparable, inj.route_fits) == ("inside", False, False)
    assert oral.documented is False
    assert oral.regimens == ()
    assert "intramuscular" in oral.verdict
    assert [w.code for w in dose_warnings(oral)][:1] == ["route-mismatch"]
    assert route_mismatch(oral.dose, ALL) == (INJECTABLE,)


def test_low_dose_injection_is_not_documented_low_dose() -> None:
    c = classify(parse_dose("4.5", "mg", "daily", route="injection"), ALL)
    assert c.documented is False
    assert c.regimens == ()
    toljan = c.matches[ALL.index(TOLJAN_LDN)]
    assert toljan.position == "inside" and not toljan.comparable
    assert "no range is documented for injection use" in c.verdict
    assert "the amount fits the low-dose range (toljan-2018; younger-2014)" in c.verdict
    assert "route-mismatch" in {w.code for w in dose_warnings(c)}


def test_ten_mg_daily_lies_in_no_documented_range() -> None:
    c = classify(parse_dose("10", "mg", "daily", route="oral"), ALL)
    assert c.documented is False
    assert not c.above_all and not c.below_all
    assert c.verdict.startswith("lies in no documented regimen: above ultra-low-dose, very-low-dose, low-dose;")
    assert "below standard-oral" in c.verdict
    assert "not-documented" in {w.code for w in dose_warnings(c)}


def test_250_mg_daily_is_above_all() -> None:
    c = classify(parse_dose("250", "mg", "daily"), ALL)
    comparable = [m for m in c.matches if m.comparable]
    assert len(comparable) == len(ALL) - 1  # the weight-based range needs a weight
    assert all(m.position == "above" for m in comparable)
    assert c.above_all and not c.documented and not c.below_all
    assert "above every checked range" in c.verdict
    assert "above-all-ranges" in {w.code for w in dose_warnings(c)}


def test_below_all_and_no_ranges() -> None:
    c = classify(parse_dose("0.5", "ug", "daily"), STANDARD)
    assert c.below_all and not c.above_all
    assert classify(parse_dose("1", "mg", "daily"), ()).verdict == "no documented range to compare with"


# --- single administration and per-administration ranges ---------------------------------------


def test_single_administration() -> None:
    dose = parse_dose("4.5", "mg", "once")
    assert dose.single
    assert dose.mg_per_day is None and dose.administrations_per_day is None and dose.period_days is None
    assert match_range(dose, TOLJAN_LDN).position == "inside"
    assert match_range(dose, TOLJAN_LDN).basis == "per-administration"
    assert match_range(parse_dose("380", "mg", "once"), INJECTABLE).position == "inside"
    assert match_range(parse_dose("400", "mg", "once"), INJECTABLE).position == "above"
    assert "taken as one administration" in match_range(dose, TOLJAN_LDN).note


def test_per_administration_range() -> None:
    inj = RangeSpec(
        "er", "extended-release-injectable", "intramuscular", "per-inj", "label", "380 mg per injection",
        min=D(380), max=D(380), period_value=D(4), period_unit="wk", per="administration",
    )  # fmt: skip
    assert match_range(parse_dose("380", "mg", "every 4 weeks"), inj).position == "inside"
    # same average, smaller injections: below; same injection, too often: above
    assert match_range(parse_dose("190", "mg", "every 2 weeks"), inj).position == "below"
    assert match_range(parse_dose("380", "mg", "every 2 weeks"), inj).position == "above"
    # small single amount but a far higher average: above wins
    assert match_range(parse_dose("100", "mg", "daily"), inj).position == "above"
    assert match_range(parse_dose("380", "mg", "every 4 weeks"), inj).basis == "both"


# --- warnings --------------------------------------------------------------------------------------


def test_weight_based_check() -> None:
    heavy = weight_based_check(parse_dose("6", "mg", "daily", weight_kg=60), PEDS)
    assert heavy is not None
    assert (heavy.computed_mg, heavy.cap_mg, heavy.limit_mg, heavy.capped) == (D(6), D("4.5"), D("4.5"), True)
    assert heavy.exceeds
    assert heavy.message.startswith("0.1 mg/kg × 60 kg = 6 mg, capped at 4.5 mg")
    at_cap = weight_based_check(parse_dose("4.5", "mg", "daily", weight_kg=60), PEDS)
    assert at_cap is not None and not at_cap.exceeds
    child = weight_based_check(parse_dose("3.5", "mg", "daily", weight_kg="30"), PEDS)
    assert child is not None
    assert (child.limit_mg, child.capped, child.exceeds) == (D(3), False, True)
    assert weight_based_check(parse_dose("3", "mg", "daily"), PEDS) is None
    assert weight_based_check(parse_dose("3", "mg", "daily", weight_kg=30), TOLJAN_LDN) is None
    c = classify(parse_dose("6", "mg", "daily", route="oral", weight_kg=60), ALL)
    assert "weight-limit-exceeded" in {w.code for w in dose_warnings(c)}


def test_route_mismatch_without_route_is_empty() -> None:
    assert route_mismatch(parse_dose("4.5", "mg", "daily"), ALL) == ()
    assert set(route_mismatch(parse_dose("4.5", "mg", "daily", route="im"), ALL)) == set(ALL) - {INJECTABLE}


# --- units, frequencies, routes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        ("4500", "ug"),
        ("4500", "mcg"),
        ("4500", "MCG"),
        ("4500", "\u00b5g"),
        ("4500", "\u03bcg"),
        ("4500", " UG "),
        ("4.5", "mg"),
        ("4.5", "MG"),
        ("4.5", "milligrams"),
        ("0.0045", "g"),
        ("4500000", "ng"),
    ],
)
def test_equivalent_units(amount: str, unit: str) -> None:
    dose = parse_dose(amount, unit, "daily")
    assert dose.mg_per_administration == D("4.5")
    assert dose.mg_per_day == D("4.5")
    assert str(dose.mg_per_day) == "4.5"


def test_unit_codes_and_conversions() -> None:
    assert normalise_unit("\u00b5g") == normalise_unit("\u03bcg") == "ug"
    assert normalise_unit("mg / kg") == normalise_unit("mg per kg") == "mg/kg"
    assert to_mg(D(4500), "ug") == D("4.5")
    assert from_mg(D("4.5"), "ug") == D(4500)
    assert str(to_mg(D(100), "mg")) == "100"


def test_mg_per_kg_with_weight() -> None:
    dose = parse_dose("0.1", "mg/kg", "daily", weight_kg=30)
    assert dose.mg_per_administration == D(3)
    assert dose.mg_per_kg_per_administration == D("0.1")
    assert dose.weight_based
    assert parse_dose("100", "ug/kg", "daily", weight_kg="45").mg_per_administration == D("4.5")


def test_mg_per_kg_without_weight() -> None:
    with pytest.raises(DoseInputError) as err:
        parse_dose("0.1", "mg/kg", "daily")
    assert err.value.field == "weight_kg"


def test_float_input_goes_through_str() -> None:
    assert parse_dose(0.1, "mg", "daily").mg_per_administration == D("0.1")
    assert parse_dose(4.5, "mg", "daily", weight_kg=70.2).weight_kg == D("70.2")


@pytest.mark.parametrize(
    ("text", "count", "days"),
    [
        ("daily", 1, "1"),
        ("once daily", 1, "1"),
        ("Once-Daily", 1, "1"),
        ("qd", 1, "1"),
        ("q.d.", 1, "1"),
        ("nightly", 1, "1"),
        ("every evening", 1, "1"),
        ("once daily at bedtime", 1, "1"),
        ("twice daily", 2, "1"),
        ("BID", 2, "1"),
        ("b.i.d.", 2, "1"),
        ("bid", 2, "1"),
        ("every 12 hours", 2, "1"),
        ("q8h", 3, "1"),
        ("every 36 hours", 2, "3"),
        ("3 times a day", 3, "1"),
        ("every other day", 1, "2"),
        ("qod", 1, "2"),
        ("every third day", 1, "3"),
        ("every 3 days", 1, "3"),
        ("weekly", 1, "7"),
        ("once a week", 1, "7"),
        ("twice weekly", 2, "7"),
        ("every other week", 1, "14"),
        ("every 4 weeks", 1, "28"),
        ("monthly", 1, "28"),
        ("once a month", 1, "28"),
        ("every monday", 1, "7"),
        ("weekdays plus Saturday", 6, "7"),
        ("mon/wed/fri", 3, "7"),
    ],
)
def test_frequencies(text: str, count: int, days: str) -> None:
    freq = parse_frequency(text)
    assert (freq.administrations, freq.period_days) == (count, D(days))


def test_once_frequency() -> None:
    freq = parse_frequency("once")
    assert freq.single and freq.period_days is None and freq.administrations_per_day is None


def test_days() -> None:
    assert parse_days("weekdays + saturday") == (0, 1, 2, 3, 4, 5)
    assert parse_days("fri-mon") == (0, 4, 5, 6)
    assert parse_days("Monday through Wednesday") == (0, 1, 2)
    with pytest.raises(DoseInputError):
        parse_days("weekdays and monday")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oral", "oral"),
        ("PO", "oral"),
        ("p.o.", "oral"),
        ("by mouth", "oral"),
        ("intramuscular", "intramuscular"),
        ("IM", "intramuscular"),
        ("injection", "injection"),
        (None, None),
        ("  ", None),
    ],
)
def test_routes(text: str | None, expected: str | None) -> None:
    assert parse_route(text) == expected


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "sNaN"}, "amount"),
        ({"amount": float("nan")}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": float("inf")}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "1e40"}, "amount"),
        ({"amount": "10000.000001"}, "amount"),
        ({"amount": "10.000001", "unit": "g"}, "amount"),
        ({"amount": "0.0000001", "unit": "ng"}, "amount"),
        ({"amount": "5000.000001", "frequency": "bid"}, "amount"),
        ({"amount": "200", "unit": "mg/kg", "weight_kg": "60"}, "amount"),
        ({"unit": "tablespoons"}, "unit"),
        ({"unit": "kg"}, "unit"),
        ({"unit": "mg/l"}, "unit"),
        ({"unit": ""}, "unit"),
        ({"frequency": "sometimes"}, "frequency"),
        ({"frequency": ""}, "frequency"),
        ({"frequency": "every 0 days"}, "frequency"),
        ({"frequency": "biweekly"}, "frequency"),
        ({"frequency": "30 times a day"}, "frequency"),
        ({"route": "telepathic"}, "route"),
        ({"weight_kg": "0.4"}, "weight_kg"),
        ({"weight_kg": "501"}, "weight_kg"),
        ({"weight_kg": "NaN"}, "weight_kg"),
        ({"weight_kg": -70}, "weight_kg"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"amount": "4.5", "unit": "mg", "frequency": "daily"} | kwargs
    with pytest.raises(DoseInputError) as err:
        parse_dose(**args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert err.value.message


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ("", "frequency"),
        ("weekdays", "frequency"),
        ("50 mg weekdays + 100 ug saturday", "unit"),
        ("50 mg someday", "frequency"),
        ("0 mg monday", "amount"),
        ([("50", "mg", [7])], "frequency"),
    ],
)
def test_bad_schedules(schedule: str | list[tuple[str, str, list[int]]], field: str) -> None:
    with pytest.raises(DoseInputError) as err:
        parse_schedule(schedule)
    assert err.value.field == field


def test_bad_range_data_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="min is above max"):
        RangeSpec("r", "b", "oral", "s", "src", "l", min=D(5), max=D(1))
    with pytest.raises(ValueError, match="period_unit"):
        RangeSpec("r", "b", "oral", "s", "src", "l", max=D(1), period_unit="yr")
    with pytest.raises(ValueError, match="needs min, max or both"):
        RangeSpec("r", "b", "oral", "s", "src", "l")


# --- properties -------------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.000001"), max_value=D(1000), places=6, allow_nan=False, allow_infinity=False)
ORDER = {"below": 0, "inside": 1, "above": 2}
MONOTONE_RANGES = (*ALL, RangeSpec(
    "er", "extended-release-injectable", "intramuscular", "per-inj", "label", "380 mg per injection",
    min=D(380), max=D(380), period_value=D(4), period_unit="wk", per="administration",
))  # fmt: skip


@given(amounts)
def test_ug_mg_round_trip(x: Decimal) -> None:
    assert from_mg(to_mg(x, "ug"), "ug") == x
    assert to_mg(from_mg(x, "ug"), "ug") == x
    assert from_mg(to_mg(x, "g"), "g") == x


@settings(max_examples=200)
@given(
    amounts,
    amounts,
    st.sampled_from(["daily", "bid", "every other day", "every 4 weeks", "once", "weekdays plus saturday"]),
    st.sampled_from(MONOTONE_RANGES),
)
def test_classification_is_monotone_in_the_amount(a: Decimal, b: Decimal, frequency: str, rng: RangeSpec) -> None:
    low, high = sorted((a, b))
    p_low = match_range(parse_dose(low, "mg", frequency, weight_kg=40), rng).position
    p_high = match_range(parse_dose(high, "mg", frequency, weight_kg=40), rng).position
    assert p_low is not None and p_high is not None
    assert ORDER[p_low] <= ORDER[p_high]


def _summary(dose: Dose) -> tuple[object, ...]:
    c = classify(dose, ALL)
    return (dose.mg_per_day, tuple(m.position for m in c.matches), c.documented, c.regimens, c.verdict)


@given(amounts)
def test_equivalent_units_give_the_same_classification(mg: Decimal) -> None:
    assert _summary(parse_dose(mg * 1000, "ug", "daily")) == _summary(parse_dose(mg, "mg", "daily"))
    assert _summary(parse_dose(mg, "\u00b5g", "daily")) == _summary(parse_dose(mg, "mcg", "daily"))


@given(amounts)
def test_split_doses_give_the_same_classification(mg: Decimal) -> None:
    twice = parse_dose(mg, "mg", "BID")
    once = parse_dose(mg * 2, "mg", "daily")
    assert twice.mg_per_day == once.mg_per_day
    assert twice.mg_per_period == once.mg_per_period
    assert _summary(twice) == _summary(once)
    every_other = parse_dose(mg * 4, "mg", "every other day")
    assert tuple(m.position for m in classify(every_other, ALL).matches) == _summary(once)[1]


def test_a_month_is_four_weeks() -> None:
    monthly = RangeSpec(
        "er", "extended-release-injectable", "intramuscular", "per-month", "label", "380 mg once a month",
        min=D(380), max=D(380), period_unit="mo",
    )  # fmt: skip
    assert monthly.period_days == D(28)
    assert match_range(parse_dose("380", "mg", "every 4 weeks"), monthly).position == "inside"
    assert match_range(parse_dose("380", "mg", "every 30 days"), monthly).position == "below"
    assert parse_dose("380", "mg", "once a month").period_days == D(28)


# --- strict numbers: ASCII decimal text only -------------------------------------------------------

from app.domain.dosing import parse_amount, parse_weight  # noqa: E402


@pytest.mark.parametrize(
    "text",
    ["4_5", "1_000", "４", "٤", "४.५", "4.５", "0x10", "inf", "Infinity", "-Infinity", "nan", "sNaN", "1e", "e3",
     "1e1_0", "1.2.3", "4,5", "4 5", "", "  ", "\u20074", "4\u00a0", "1e+99999"],
)  # fmt: skip
def test_parse_amount_refuses_anything_but_ascii_decimals(text: str) -> None:
    with pytest.raises(DoseInputError) as info:
        parse_amount(text)
    assert info.value.field == "amount"
    with pytest.raises(DoseInputError) as winfo:
        parse_weight(text)
    assert winfo.value.field == "weight_kg"


@pytest.mark.parametrize(
    ("text", "value"),
    [("4.5", "4.5"), (" 4.5 ", "4.5"), ("+4.5", "4.5"), ("004.50", "4.5"), (".5", "0.5"), ("5.", "5"),
     ("1e-3", "0.001"), ("2.5E2", "250"), ("1E+1", "10")],
)  # fmt: skip
def test_parse_amount_reads_plain_decimals(text: str, value: str) -> None:
    assert parse_amount(text) == D(value)


@given(st.text(max_size=12))
@settings(max_examples=500, deadline=None)
def test_parse_amount_accepts_text_only_in_the_documented_grammar(text: str) -> None:
    import re

    grammar = re.fullmatch(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?[ \t]*", text)
    try:
        parse_amount(text)
    except DoseInputError:
        return
    assert grammar is not None, text


@given(st.decimals(min_value=D("0.000001"), max_value=D(100000), places=6, allow_nan=False, allow_infinity=False))
def test_parse_amount_round_trips_every_plain_decimal(value: Decimal) -> None:
    if value <= 0:
        return
    assert parse_amount(format(value, "f")) == value
