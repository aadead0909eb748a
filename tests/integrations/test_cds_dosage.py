"""Reading a FHIR R4 Dosage into the dose check's inputs (pure): the shapes EHRs send, and broken ones."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.domain.dosing import parse_frequency
from app.integrations.cds_hooks.dosage import read_dosage
from tests.integrations.fixtures.cds_requests import gts, quantity, repeat, snomed_route

MG = {"doseAndRate": [{"doseQuantity": quantity(4.5)}]}
TABLET_50 = (Decimal(50), "RxNorm 1483744 (naltrexone hydrochloride 50 MG Oral Tablet)")


def _with(**parts: Any) -> dict[str, Any]:
    return {**MG, **parts}


# (name, dosage, expected frequency as the dose check reads it: (administrations, period days) or "once")
TIMINGS: list[tuple[str, dict[str, Any], tuple[int, int] | str]] = [
    *[(f"GTS {code}", _with(timing=gts(code)), (1, 1)) for code in ("QD", "QAM", "QPM", "QHS", "AM", "PM", "BED")],
    ("GTS BID", _with(timing=gts("BID")), (2, 1)),
    ("GTS TID", _with(timing=gts("TID")), (3, 1)),
    ("GTS QID", _with(timing=gts("QID")), (4, 1)),
    ("GTS QOD", _with(timing=gts("QOD")), (1, 2)),
    ("GTS WK", _with(timing=gts("WK")), (1, 7)),
    ("GTS MO", _with(timing=gts("MO")), (1, 28)),
    ("GTS Q4W", _with(timing=gts("Q4W")), (1, 28)),
    ("GTS Q8H", _with(timing=gts("Q8H")), (3, 1)),
    ("GTS Q2D", _with(timing=gts("Q2D")), (1, 2)),
    ("GTS code lower case", _with(timing=gts("bid")), (2, 1)),
    ("code text only", _with(timing={"code": {"text": "twice daily"}}), (2, 1)),
    ("coding display only", _with(timing={"code": {"coding": [{"display": "every other day"}]}}), (1, 2)),
    ("unknown code, readable display", _with(timing=gts("XYZ", "once daily")), (1, 1)),
    ("repeat 1/1 d", _with(timing=repeat()), (1, 1)),
    ("repeat 2/1 d", _with(timing=repeat(2)), (2, 1)),
    ("repeat 1/8 h", _with(timing=repeat(1, 8, "h")), (3, 1)),
    ("repeat 5/1 d", _with(timing=repeat(5)), (5, 1)),
    ("repeat 1/3 d", _with(timing=repeat(1, 3, "d")), (1, 3)),
    ("repeat 1/1 wk", _with(timing=repeat(1, 1, "wk")), (1, 7)),
    ("repeat 1/4 wk", _with(timing=repeat(1, 4, "wk")), (1, 28)),
    ("repeat 1/1 mo", _with(timing=repeat(1, 1, "mo")), (1, 28)),
    ("repeat 1/0.5 d", _with(timing=repeat(1, 0.5, "d")), (2, 1)),
    ("repeat frequencyMax 2", _with(timing=repeat(1, 1, "d", frequencyMax=2)), (2, 1)),
    ("repeat periodMax 2 (shortest interval kept)", _with(timing=repeat(1, 1, "d", periodMax=2)), (1, 1)),
    ("repeat when HS only", _with(timing={"repeat": {"when": ["HS"]}}), (1, 1)),
    ("repeat two times of day", _with(timing={"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}}), (2, 1)),
    ("repeat days of week", _with(timing={"repeat": {"dayOfWeek": ["mon", "wed", "fri"]}}), (3, 7)),
    ("repeat 1/1 wk on Monday and Wednesday", _with(timing=repeat(1, 1, "wk", dayOfWeek=["mon", "wed"])), (2, 7)),
    ("repeat 1/1 d on weekdays", _with(timing=repeat(1, dayOfWeek=["mon", "tue", "wed", "thu", "fri"])), (5, 7)),
    # Times of day and events name each administration: never read as fewer than they name.
    ("repeat when morning and evening", _with(timing={"repeat": {"when": ["MORN", "EVE"]}}), (2, 1)),
    (
        "repeat 1/d with two times of day: the times win",
        _with(timing={**repeat(1), "repeat": {**repeat(1)["repeat"], "timeOfDay": ["08:00:00", "20:00:00"]}}),
        (2, 1),
    ),
    (
        "repeat 1/d with three events of the day",
        _with(timing={"repeat": {**repeat(1)["repeat"], "when": ["MORN", "AFT", "EVE"]}}),
        (3, 1),
    ),
    (
        "repeat 2/d with one time of day: the frequency wins",
        _with(timing={"repeat": {**repeat(2)["repeat"], "timeOfDay": ["08:00:00"]}}),
        (2, 1),
    ),
    ("repeat count 1", _with(timing={"repeat": {"count": 1}}), "once"),
    ("repeat 2/d, code QD: the more frequent (see below)", _with(timing={**repeat(2), **gts("QD")}), (2, 1)),
]


@pytest.mark.parametrize(("name", "dosage", "expected"), TIMINGS, ids=[t[0] for t in TIMINGS])
def test_timing(name: str, dosage: dict[str, Any], expected: tuple[int, int] | str) -> None:
    reading = read_dosage(dosage, None)
    assert reading.problem is None, (name, reading.problem)
    assert reading.frequency is not None
    frequency = parse_frequency(reading.frequency)
    if expected == "once":
        assert frequency.single
    else:
        assert (frequency.administrations, frequency.period_days) == (expected[0], Decimal(expected[1])), name


# (name, dosage, strength, amount, unit, problem words)
AMOUNTS: list[tuple[str, dict[str, Any], tuple[Decimal, str] | None, str | None, str | None, str | None]] = [
    ("mg", {"doseAndRate": [{"doseQuantity": quantity(4.5)}]}, None, "4.5", "mg", None),
    ("unit only in 'unit'", {"doseAndRate": [{"doseQuantity": {"value": 4.5, "unit": "mg"}}]}, None, "4.5", "mg", None),
    ("mcg", {"doseAndRate": [{"doseQuantity": quantity(500, "ug")}]}, None, "500", "ug", None),
    (
        "{tbl} with a known strength",
        {"doseAndRate": [{"doseQuantity": quantity(1, "tablet", "{tbl}")}]},
        TABLET_50,
        "50",
        "mg",
        None,
    ),
    (
        "'tab' with a known strength",
        {"doseAndRate": [{"doseQuantity": quantity(2, "tab", "tab")}]},
        TABLET_50,
        "100",
        "mg",
        None,
    ),
    (
        "half a tablet",
        {"doseAndRate": [{"doseQuantity": quantity(0.5, "tablet", "{tbl}")}]},
        TABLET_50,
        "25",
        "mg",
        None,
    ),
    (
        "tablets, strength unknown",
        {"doseAndRate": [{"doseQuantity": quantity(1, "tablet", "{tbl}")}]},
        None,
        None,
        None,
        "strength",
    ),
    (
        "dose range: the upper end",
        {"doseAndRate": [{"doseRange": {"low": quantity(1), "high": quantity(4.5)}}]},
        None,
        "4.5",
        "mg",
        None,
    ),
    ("dose range, low only", {"doseAndRate": [{"doseRange": {"low": quantity(3)}}]}, None, "3", "mg", None),
    ("dose range, empty", {"doseAndRate": [{"doseRange": {}}]}, None, None, None, "no dose"),
    (
        "dose range, no values",
        {"doseAndRate": [{"doseRange": {"low": {"unit": "mg"}}}]},
        None,
        None,
        None,
        "no readable amount",
    ),
    ("amount as a string", {"doseAndRate": [{"doseQuantity": quantity("4.5")}]}, None, None, None, "not a number"),
    (
        "amount with an underscore",
        {"doseAndRate": [{"doseQuantity": quantity("4_5")}]},
        None,
        None,
        None,
        "not a number",
    ),
    ("amount a boolean", {"doseAndRate": [{"doseQuantity": quantity(True)}]}, None, None, None, "not a number"),
    ("amount zero", {"doseAndRate": [{"doseQuantity": quantity(0)}]}, None, None, None, "not a number"),
    ("amount negative", {"doseAndRate": [{"doseQuantity": quantity(-1)}]}, None, None, None, "not a number"),
    (
        "capsules (compounded), strength unknown",
        {"doseAndRate": [{"doseQuantity": quantity(1, "capsule", "{cap}")}]},
        TABLET_50,
        None,
        None,
        "capsule strength",
    ),
    (
        "capsules whose Medication states the strength",
        {"doseAndRate": [{"doseQuantity": quantity(3, "capsule", "{cap}")}]},
        (Decimal("1.5"), "the order's medication"),
        "4.5",
        "mg",
        None,
    ),
    ("no unit", {"doseAndRate": [{"doseQuantity": {"value": 4.5}}]}, None, None, None, "without a unit"),
    ("no dose", {}, None, None, None, "no dose"),
]


@pytest.mark.parametrize(
    ("name", "dosage", "strength", "amount", "unit", "problem"), AMOUNTS, ids=[a[0] for a in AMOUNTS]
)
def test_amount(
    name: str,
    dosage: dict[str, Any],
    strength: tuple[Decimal, str] | None,
    amount: str | None,
    unit: str | None,
    problem: str | None,
) -> None:
    reading = read_dosage({**dosage, "timing": gts("QD")}, strength)
    if problem is None:
        assert reading.problem is None, (name, reading.problem)
        assert reading.amount == Decimal(amount or "") and reading.unit == unit, name
    else:
        assert reading.problem is not None and problem in reading.problem, (name, reading.problem)
        assert reading.frequency is None


ROUTES: list[tuple[str, Any, str | None]] = [
    ("SNOMED oral, code only", snomed_route("26643006"), "oral"),
    ("SNOMED intramuscular, code only", snomed_route("78421000"), "intramuscular"),
    ("display only", {"coding": [{"display": "Intramuscular route (qualifier value)"}]}, "intramuscular"),
    ("text PO", {"text": "PO"}, "oral"),
    ("text by mouth", {"text": "by mouth"}, "oral"),
    ("text IM", {"text": "IM"}, "intramuscular"),
    ("unknown route", {"text": "nasal"}, None),
    ("a string instead of a concept", "oral", None),
]


@pytest.mark.parametrize(("name", "route", "expected"), ROUTES, ids=[r[0] for r in ROUTES])
def test_route(name: str, route: Any, expected: str | None) -> None:
    assert read_dosage({**MG, "timing": gts("QD"), "route": route}, None).route == expected, name


PROBLEMS: list[tuple[str, dict[str, Any], str]] = [
    ("no timing", MG, "does not say how often"),
    ("as needed without a frequency", {**MG, "asNeededBoolean": True}, "as needed"),
    ("as needed as a concept", {**MG, "asNeededCodeableConcept": {"text": "pain"}}, "as needed"),
    ("unreadable code", _with(timing=gts("ZZZ")), "does not say how often"),
    ("period in an unknown unit", _with(timing=repeat(1, 1, "fortnight")), "could not be read"),
    (
        "period as a string",
        _with(timing={"repeat": {"frequency": 1, "period": "1", "periodUnit": "d"}}),
        "could not be read",
    ),
    ("timing a list", _with(timing=[1, 2]), "does not say how often"),
    ("doseAndRate an object", {"doseAndRate": {"doseQuantity": quantity(4.5)}, "timing": gts("QD")}, "no dose"),
    ("quantity a list", {"doseAndRate": [{"doseQuantity": [4.5]}], "timing": gts("QD")}, "no dose"),
]


@pytest.mark.parametrize(("name", "dosage", "words"), PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_what_cannot_be_assessed_is_said_in_words(name: str, dosage: dict[str, Any], words: str) -> None:
    reading = read_dosage(dosage, None)
    assert reading.problem is not None and words in reading.problem, (name, reading.problem)
    assert ":" not in reading.problem and "required" not in reading.problem


def test_as_needed_with_a_frequency_is_assessed_at_the_most_frequent_use() -> None:
    reading = read_dosage({**MG, "asNeededBoolean": True, "timing": repeat(1, 1, "d", frequencyMax=2)}, None)
    assert reading.problem is None and reading.frequency is not None
    assert parse_frequency(reading.frequency).administrations == 2
    assert any("as needed" in note for note in reading.notes)


def test_an_unrecognised_route_is_said() -> None:
    reading = read_dosage({**MG, "timing": gts("QD"), "route": {"text": "nasal"}}, None)
    assert reading.route is None and reading.problem is None
    assert any("route was not recognised" in note for note in reading.notes)
    assert not read_dosage({**MG, "timing": gts("QD")}, None).notes


def test_card_ids_are_the_uuid5_of_their_name() -> None:
    """Card ids are written without uuid's object: they must stay exactly uuid.uuid5(NAMESPACE_URL, name)
    (feedback refers to cards by them), for any text a request can carry."""
    import random
    import string
    import uuid

    from app.integrations.cds_hooks.cards import card_id

    rnd = random.Random(5)
    alphabet = string.printable + "éü☃𝄞\u200b"
    for _ in range(3000):
        instance, kind, key = ("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 50))) for _ in range(3))
        expected = uuid.uuid5(uuid.NAMESPACE_URL, f"ldn-kb:cds:{instance}:{kind}:{key}")
        assert card_id(instance, kind, key) == str(expected)


def test_route_texts_are_read_alike_whether_kept_or_not() -> None:
    """Short route texts are read once and kept (bounded); long ones are read each time, the same way."""
    from app.integrations.cds_hooks import dosage

    for text in ("Oral route", "by mouth", "IM injection", "nasal", "PO"):
        long_text = text + " " + "(as directed) " * 20
        assert len(long_text) > dosage._ROUTE_TEXT_KEPT
        assert dosage._route({"route": {"text": text}}) == dosage._read_route(text)
        assert dosage._route({"route": {"text": long_text}}) == dosage._read_route(long_text)
    before = dosage._text_route.cache_info().currsize
    dosage._route({"route": {"text": "oral " + "x" * 200}})
    assert dosage._text_route.cache_info().currsize == before, "a long text was kept"
    assert dosage._text_route.cache_info().maxsize == 1024


# --------------------------------------------------------------------------------------------------
# A timing.repeat value that is not valid is never read as another value (audit finding 1)


def _repeat_with(**values: Any) -> dict[str, Any]:
    return {"repeat": {**repeat(1)["repeat"], **values}}


_NOT_WHOLE: list[Any] = ["2", 1.5, 0, -1, True, [2], {"value": 2}]
INVALID_REPEATS: list[tuple[str, dict[str, Any], str]] = [
    *[(f"frequency {v!r}", _repeat_with(frequency=v), "times per period") for v in _NOT_WHOLE],
    *[(f"frequencyMax {v!r}", _repeat_with(frequencyMax=v), "most times per period") for v in ("2", 1.5, 0, -1, True)],
    *[(f"period {v!r}", _repeat_with(period=v), "period") for v in ("1", 0, -1, True, float("nan"))],
    *[(f"periodMax {v!r}", _repeat_with(periodMax=v), "longest period") for v in ("2", 0, -2, False)],
    *[(f"count {v!r}", _repeat_with(count=v), "number of doses in all") for v in ("1", 1.5, 0, -1, True)],
    *[(f"countMax {v!r}", _repeat_with(countMax=v), "most doses in all") for v in ("3", 2.5, 0, True)],
    ("frequency as a string, no period", {"repeat": {"frequency": "2"}}, "times per period"),
    ("count as a string alone", {"repeat": {"count": "1"}}, "number of doses in all"),
    ("period unit not a unit of time", _repeat_with(periodUnit="fortnight"), "unit of time"),
    ("frequencyMax below frequency", _repeat_with(frequency=3, frequencyMax=2), "below"),
    ("periodMax below period", _repeat_with(period=2, periodMax=1), "shorter"),
    ("countMax below count", _repeat_with(count=5, countMax=2), "below"),
]


@pytest.mark.parametrize(("name", "timing", "words"), INVALID_REPEATS, ids=[r[0] for r in INVALID_REPEATS])
def test_an_invalid_repeat_value_is_not_assessed(name: str, timing: dict[str, Any], words: str) -> None:
    """FHIR R4: frequency, frequencyMax, count and countMax are positiveInt, period and periodMax decimals
    above zero. Anything else is said, never read as 1 (4.5 mg with frequency "2" was read as daily)."""
    for with_code in (timing, {**timing, **gts("QD")}):  # a readable code never stands in for a broken repeat
        reading = read_dosage(_with(timing=with_code), None)
        assert reading.problem is not None and words in reading.problem, (name, reading.problem)
        assert "could not be read" in reading.problem and ":" not in reading.problem
        assert reading.frequency is None


def test_a_whole_number_written_as_a_decimal_is_that_number() -> None:
    reading = read_dosage(_with(timing=_repeat_with(frequency=2.0, period=1.0)), None)
    assert reading.problem is None and reading.frequency is not None
    assert parse_frequency(reading.frequency).administrations == 2


# --------------------------------------------------------------------------------------------------
# A dose range is read with both its ends (audit finding 3)


@pytest.mark.parametrize(
    ("low", "high"),
    [(quantity(9), quantity(4.5)), (quantity(9000, "ug"), quantity(4.5)), (quantity(4.5), quantity(4.5, "ug"))],
)
def test_an_inverted_dose_range_is_not_assessed(low: dict[str, Any], high: dict[str, Any]) -> None:
    reading = read_dosage({"doseAndRate": [{"doseRange": {"low": low, "high": high}}], "timing": gts("QD")}, None)
    assert reading.problem is not None and "low" in reading.problem and "above its high" in reading.problem
    assert reading.amount is None


def test_a_dose_range_in_two_units_is_read_in_both() -> None:
    dose_range = {"low": quantity(500, "ug"), "high": quantity(4.5)}
    reading = read_dosage({"doseAndRate": [{"doseRange": dose_range}], "timing": gts("QD")}, None)
    assert reading.problem is None and (reading.amount, reading.unit) == (Decimal("4.5"), "mg")
    assert "dose range 500 ug–4.5 mg: assessed at the upper end" in reading.notes


@pytest.mark.parametrize("end", ["low", "high"])
def test_a_dose_range_end_whose_amount_cannot_be_read_is_not_dropped(end: str) -> None:
    dose_range = {"low": quantity(1), "high": quantity(4.5), end: quantity("4.5")}
    reading = read_dosage({"doseAndRate": [{"doseRange": dose_range}], "timing": gts("QD")}, None)
    assert reading.problem is not None and f"no readable amount at its {end} end" in reading.problem
    assert reading.uncertain is None and reading.amount is None


# --------------------------------------------------------------------------------------------------
# A dose's unit and code, and its comparator (audit finding 5)


@pytest.mark.parametrize(
    ("unit", "code"),
    [("ug", "mg"), ("mg", "ug"), ("g", "mg"), ("mcg", "mg"), ("tablet", "mg"), ("mg", "{tbl}"), ("capsule", "{tbl}")],
)
def test_a_unit_and_a_code_that_disagree_are_not_assessed(unit: str, code: str) -> None:
    dosage = {"doseAndRate": [{"doseQuantity": quantity(4.5, unit, code)}], "timing": gts("QD")}
    reading = read_dosage(dosage, TABLET_50)
    assert reading.problem is not None and "disagree" in reading.problem, reading.problem
    assert reading.amount is None and ":" not in reading.problem


@pytest.mark.parametrize(
    ("unit", "code", "amount", "as_unit"),
    [
        ("milligram", "mg", "4.5", "mg"),
        ("MG", "mg", "4.5", "mg"),
        ("mcg", "ug", "4.5", "ug"),
        ("mg (milligram)", "mg", "4.5", "mg"),  # a unit text not recognised: the code is read
        ("tablet(s)", "{tbl}", "225", "mg"),
        ("each", "{tbl}", "225", "mg"),
    ],
)
def test_a_unit_and_a_code_that_agree_are_read(unit: str, code: str, amount: str, as_unit: str) -> None:
    dosage = {"doseAndRate": [{"doseQuantity": quantity(4.5, unit, code)}], "timing": gts("QD")}
    reading = read_dosage(dosage, TABLET_50)
    assert reading.problem is None, reading.problem
    assert (reading.amount, reading.unit) == (Decimal(amount), as_unit)


@pytest.mark.parametrize(("comparator", "words"), [(">=", "at least"), (">", "more than")])
def test_a_dose_with_no_upper_limit_never_reassures(comparator: str, words: str) -> None:
    dosage = {"doseAndRate": [{"doseQuantity": {**quantity(4.5), "comparator": comparator}}], "timing": gts("QD")}
    reading = read_dosage(dosage, None)
    assert reading.problem is None and reading.amount == Decimal("4.5")
    assert reading.uncertain is not None and "no upper limit" in reading.uncertain
    assert any(words in note for note in reading.notes)


@pytest.mark.parametrize(("comparator", "words"), [("<=", "at most"), ("<", "less than")])
def test_a_dose_given_as_at_most_is_assessed_at_that_amount(comparator: str, words: str) -> None:
    dosage = {"doseAndRate": [{"doseQuantity": {**quantity(4.5), "comparator": comparator}}], "timing": gts("QD")}
    reading = read_dosage(dosage, None)
    assert reading.problem is None and reading.amount == Decimal("4.5")
    assert reading.uncertain is not None and any(words in note for note in reading.notes)


def test_a_dose_range_whose_upper_end_has_no_limit_never_reassures() -> None:
    dose_range = {"low": quantity(1), "high": {**quantity(4.5), "comparator": ">="}}
    reading = read_dosage({"doseAndRate": [{"doseRange": dose_range}], "timing": gts("QD")}, None)
    assert reading.problem is None and reading.amount == Decimal("4.5")
    assert reading.uncertain is not None and "no upper limit" in reading.uncertain


@pytest.mark.parametrize("comparator", ["ad", "~", "=", 5, ["<"]])
def test_a_comparator_that_cannot_be_read_is_said(comparator: Any) -> None:
    dosage = {"doseAndRate": [{"doseQuantity": {**quantity(4.5), "comparator": comparator}}], "timing": gts("QD")}
    reading = read_dosage(dosage, None)
    assert reading.problem is not None and "cannot be read" in reading.problem and reading.amount is None


def test_uncertainties_add_up() -> None:
    dosage = {
        "doseAndRate": [{"doseQuantity": {**quantity(4.5), "comparator": ">="}}],
        "timing": gts("QD"),
        "route": {"text": "nasal"},
    }
    reading = read_dosage(dosage, None)
    assert reading.uncertain is not None
    assert "route not recognised" in reading.uncertain and "no upper limit" in reading.uncertain


# --------------------------------------------------------------------------------------------------
# Every doseAndRate entry is read (audit finding 2)


def _typed(type_text: str, dose: dict[str, Any]) -> dict[str, Any]:
    return {"type": {"text": type_text}, **dose}


def test_different_doses_are_assessed_at_the_largest_and_never_reassure() -> None:
    calculated = _typed("calculated", {"doseQuantity": quantity(4.5)})
    ordered = _typed("ordered", {"doseQuantity": quantity(50)})
    for entries in ([calculated, ordered], [ordered, calculated]):
        reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, None)
        assert reading.problem is None
        assert (reading.amount, reading.unit) == (Decimal(50), "mg")
        assert reading.uncertain is not None and "different doses" in reading.uncertain
        said = "; ".join(reading.notes)
        assert "4.5 mg (calculated)" in said and "50 mg (ordered)" in said and "largest" in said


def test_different_doses_in_other_units_and_forms_are_compared_in_mg() -> None:
    entries = [
        {"type": {"coding": [{"code": "calculated", "display": "Calculated"}]}, "doseQuantity": quantity(4500, "ug")},
        {"doseQuantity": quantity(1, "tablet", "{tbl}")},
    ]
    reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, TABLET_50)
    assert (reading.amount, reading.unit) == (Decimal(50), "mg") and reading.uncertain is not None
    entries = [{"doseQuantity": quantity(60, "ug")}, {"doseRange": {"low": quantity(1), "high": quantity(4.5)}}]
    reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, None)
    assert (reading.amount, reading.unit) == (Decimal("4.5"), "mg") and reading.uncertain is not None


def test_entries_giving_the_same_dose_are_one_dose() -> None:
    entries = [_typed("calculated", {"doseQuantity": quantity(4.5)}), {"doseQuantity": quantity(4500, "ug")}]
    reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, None)
    assert reading.problem is None and reading.uncertain is None
    assert (reading.amount, reading.unit) == (Decimal("4.5"), "mg")


def test_an_entry_without_a_dose_is_not_a_dose() -> None:
    entries = [{"rateQuantity": quantity(1, "mg/h")}, {"doseQuantity": quantity(4.5)}]
    reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, None)
    assert reading.problem is None and reading.uncertain is None and reading.amount == Decimal("4.5")


@pytest.mark.parametrize(
    ("second", "words"),
    [
        ({"doseQuantity": quantity("50")}, "not a number"),
        ({"doseQuantity": quantity(1, "tablet", "{tbl}")}, "strength"),
        ({"doseQuantity": quantity(0.1, "mg/kg")}, "cannot be compared"),
        ({"doseQuantity": quantity(5, "mL")}, "cannot be compared"),
    ],
)
def test_a_second_dose_that_cannot_be_read_is_said(second: dict[str, Any], words: str) -> None:
    for entries in ([{"doseQuantity": quantity(4.5)}, second], [second, {"doseQuantity": quantity(4.5)}]):
        reading = read_dosage({"doseAndRate": entries, "timing": gts("QD")}, None)
        assert reading.problem is not None and words in reading.problem, reading.problem


# --------------------------------------------------------------------------------------------------
# A timing's code and repeat that disagree (audit finding 4)

DISAGREEING_TIMINGS: list[tuple[str, dict[str, Any], tuple[int, int]]] = [
    ("code BID, repeat daily", {**repeat(1), **gts("BID")}, (2, 1)),
    ("code QD, repeat twice a day", {**repeat(2), **gts("QD")}, (2, 1)),
    ("code text twice daily, repeat daily", {**repeat(1), "code": {"text": "twice daily"}}, (2, 1)),
    ("code QOD, repeat weekly", {**repeat(1, 1, "wk"), **gts("QOD")}, (1, 2)),
    ("code BID, its display once daily", gts("BID", "once daily"), (2, 1)),
    ("code QD, its text three times a day", {"code": {**gts("QD")["code"], "text": "3 times a day"}}, (3, 1)),
]


@pytest.mark.parametrize(("name", "timing", "expected"), DISAGREEING_TIMINGS, ids=[t[0] for t in DISAGREEING_TIMINGS])
def test_a_timing_that_disagrees_with_itself_is_assessed_at_the_most_frequent(
    name: str, timing: dict[str, Any], expected: tuple[int, int]
) -> None:
    reading = read_dosage(_with(timing=timing), None)
    assert reading.problem is None and reading.frequency is not None, (name, reading.problem)
    frequency = parse_frequency(reading.frequency)
    assert (frequency.administrations, frequency.period_days) == (expected[0], Decimal(expected[1])), name
    assert reading.uncertain is not None and "different frequencies" in reading.uncertain, name
    assert any("different frequencies" in note and "most frequent" in note for note in reading.notes), name


@pytest.mark.parametrize(
    "timing",
    [
        {**repeat(2), **gts("BID")},
        {**repeat(1), "code": {"text": "nightly"}},
        gts("BID", "twice daily"),
        {**repeat(1, 8, "h"), **gts("Q8H")},
    ],
)
def test_a_timing_that_agrees_with_itself_is_not_uncertain(timing: dict[str, Any]) -> None:
    reading = read_dosage(_with(timing=timing), None)
    assert reading.problem is None and reading.frequency is not None
    assert reading.uncertain is None and not reading.notes


def test_a_repeat_that_cannot_be_read_is_not_replaced_by_the_code() -> None:
    unread = {"repeat": {"dayOfWeek": ["mon"], "timeOfDay": ["08:00:00", "20:00:00"]}}
    reading = read_dosage(_with(timing={**unread, **gts("QD")}), None)
    assert reading.problem is not None and "could not be read" in reading.problem


# --------------------------------------------------------------------------------------------------
# A timing's total number of doses (audit finding 6)


@pytest.mark.parametrize(
    "timing",
    [
        _repeat_with(frequency=2, count=1),
        {"repeat": {"count": 1}, **gts("BID")},
        _repeat_with(frequency=1, period=1, periodUnit="wk", count=1, countMax=1),
    ],
)
def test_a_single_dose_in_all_is_read_as_once(timing: dict[str, Any]) -> None:
    reading = read_dosage(_with(timing=timing), None)
    assert reading.problem is None and reading.frequency is not None
    assert parse_frequency(reading.frequency).single
    assert any("a single administration" in note for note in reading.notes), reading.notes


@pytest.mark.parametrize(
    ("timing", "words"),
    [
        (_repeat_with(frequency=2, count=10), "10 doses in all"),
        (_repeat_with(frequency=2, count=1, countMax=6), "1–6 doses in all"),
        ({"repeat": {"count": 14}, **gts("BID")}, "14 doses in all"),
    ],
)
def test_a_total_number_of_doses_is_said(timing: dict[str, Any], words: str) -> None:
    reading = read_dosage(_with(timing=timing), None)
    assert reading.problem is None and reading.frequency is not None
    assert parse_frequency(reading.frequency).administrations == 2
    assert any(words in note for note in reading.notes), reading.notes
