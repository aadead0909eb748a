"""A FHIR R4 ``Dosage`` as the dose check's inputs (amount, unit, frequency, route), in the shapes EHRs send.

- ``timing.code``: HL7 GTS abbreviations (QD, BID, TID, QID, QOD, QHS, QAM, QPM, AM, PM, BED, WK, MO,
  Q4H, Q4W, ...), matched by code, else the coding's display or the concept's text read as a frequency;
- ``timing.repeat``: ``frequency``/``frequencyMax`` per ``period``/``periodMax`` ``periodUnit``, ``count``/
  ``countMax`` (1 in all: a single administration; more: said), ``dayOfWeek``, ``when``/``timeOfDay`` (one
  administration a day per time or event given, and never fewer than they name when a frequency is given
  too). A value that is not valid (a frequency ``"2"``, 1.5 or 0, a period of 0, a maximum below its
  minimum) makes the line not assessed: it is never read as another value, nor replaced by the code;
- a timing whose repeat, codes and texts give different frequencies is assessed at the most frequent;
- ``doseAndRate``: every entry's ``doseQuantity`` or ``doseRange`` (different doses: the largest is assessed);
  UCUM mass units, or tablets/injections (``{tbl}``, ``tablet``, ``tab``, ...) when the product's strength
  is known (the reference's RxNorm product codes, or a Medication that states its strength). A unit and
  code that name different units, or a range whose low end is above its high end, are not assessed; a
  ``comparator`` is read (``>=``: no upper limit; ``<=``: at most);
- ``asNeeded[x]``; ``route`` by SNOMED CT code (the route codes of FHIR's example value set), coding display
  or text.

A range (dose or frequency) is assessed at its upper end, the most the order allows, and the note says so.
What the order leaves open (no upper limit, different doses or frequencies, a route not recognised) is
said in ``uncertain``, each of them, and the decision is then never reassuring. What cannot be assessed is
said in words for a clinician (``problem``), never as a field error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Final

from app.domain.dosing import DoseInputError, normalise_unit, parse_amount, parse_frequency, parse_route, to_mg

_TABLET_UNITS: Final = frozenset(
    {"{tbl}", "tbl", "{tab}", "tab", "tabs", "tablet", "tablets", "{tablet}", "{tablets}", "oral tablet"}
)
_INJECTION_UNITS: Final = frozenset(
    {"{injection}", "injection", "injections", "{inj}", "inj", "{vial}", "vial", "vials", "{kit}", "kit"}
)
_EACH_UNITS: Final = frozenset({"{each}", "each", "ea", "1", "{unit}", "unit", "{dose}", "dose"})
#: How a strength read from the order's own Medication resource is attributed (see medications.Naltrexone).
STATED_BY_MEDICATION: Final = "the order's medication"
_CAPSULE_UNITS: Final = frozenset({"{cap}", "cap", "caps", "{capsule}", "capsule", "capsules", "{capsules}"})

#: HL7 v3 GTSAbbreviation codes (FHIR R4 ValueSet timing-abbreviation and the code system's common codes)
#: as a frequency the dose check reads.
GTS: Final[dict[str, str]] = {
    "QD": "daily",
    "AM": "daily",
    "PM": "daily",
    "QAM": "daily",
    "QPM": "daily",
    "QHS": "daily",
    "HS": "daily",
    "BED": "daily",
    "BID": "twice daily",
    "TID": "3 times a day",
    "QID": "4 times a day",
    "QOD": "every other day",
    "WK": "weekly",
    "MO": "monthly",
}
_GTS_EVERY: Final = re.compile(r"^Q(\d{1,3})(H|D|W|WK|MO)$")
_GTS_UNIT_WORDS: Final = {"H": "hours", "D": "days", "W": "weeks", "WK": "weeks", "MO": "months"}

#: SNOMED CT route codes (FHIR R4 example ValueSet route-codes, < 284009009 Route of administration value).
SNOMED_ROUTES: Final[dict[str, str]] = {
    "26643006": "oral",
    "78421000": "intramuscular",
    "34206005": "subcutaneous",
    "47625008": "intravenous",
    "37839007": "sublingual",
    "6064005": "topical",
    "45890007": "transdermal",
}
_ROUTE_WORDS: Final = (
    ("intramuscular", "intramuscular"),
    ("subcutaneous", "subcutaneous"),
    ("intravenous", "intravenous"),
    ("sublingual", "sublingual"),
    ("transdermal", "transdermal"),
    ("topical", "topical"),
    ("oral", "oral"),
    ("by mouth", "oral"),
    ("per os", "oral"),
)
_PERIOD_HOURS: Final[dict[str, Fraction]] = {
    "s": Fraction(1, 3600),
    "min": Fraction(1, 60),
    "h": Fraction(1),
    "d": Fraction(24),
    "wk": Fraction(24 * 7),
    "mo": Fraction(24 * 28),  # the dose check's month: 4 weeks
    "a": Fraction(24 * 365),
}
_DAY_CODES: Final = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


@dataclass(slots=True)
class DoseReading:
    """The dose check's inputs read from one Dosage, with notes and, when it cannot be assessed, why."""

    amount: Decimal | None = None
    unit: str | None = None
    frequency: str | None = None
    route: str | None = None
    as_needed: bool = False
    notes: list[str] = field(default_factory=list)
    uncertain: str | None = None
    """What the order leaves open that the assessment had to assume (a route not recognised, a dose range
    with no upper limit): the decision is then never reassuring."""
    problem: str | None = None
    """Why the dose cannot be assessed, for a clinician; ``None`` when it can."""

    def leave_open(self, what: str) -> None:
        """Add ``what`` to what the order leaves open (each is said, none replaces another)."""
        if self.uncertain is None:
            self.uncertain = what
        elif what not in self.uncertain.split("; "):
            self.uncertain = f"{self.uncertain}; {what}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> Decimal | None:
    """A FHIR decimal (a JSON number) read strictly; ``None`` for anything else (strings, booleans, 0, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    key = (type(value), value)  # 1 and 1.0 are equal keys but read as different Decimals
    if key in _NUMBERS:
        return _NUMBERS[key]
    try:
        number: Decimal | None = parse_amount(value)
    except DoseInputError:
        number = None
    if len(_NUMBERS) >= _NUMBERS_KEPT:
        _NUMBERS.clear()
    _NUMBERS[key] = number
    return number


_NUMBERS: dict[tuple[type, int | float], Decimal | None] = {}
_NUMBERS_KEPT: Final = 512
"""Numbers read, kept: a dosage's timing repeats the same few (1 a day, every 1 d), each read more than once."""


def _whole(value: Any) -> int | None:
    """A FHIR positiveInt (a JSON number; ``2.0`` is 2); ``None`` for anything else (``"2"``, 1.5, 0, true)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 1:
        return None
    return value


def _fmt(value: Decimal | Fraction | int) -> str:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(Decimal(value).normalize(), "f")
    return text


# --------------------------------------------------------------------------------------------------
# Timing


def _interval_phrase(per_hours: Fraction, administrations: int) -> str | None:
    """``administrations`` every ``per_hours`` hours, as a frequency the dose check reads."""
    if administrations < 1 or per_hours <= 0:
        return None
    interval = per_hours / administrations  # hours between administrations
    if interval.denominator == 1:
        hours = interval.numerator
        if hours == 24:
            return "daily"
        if hours % (24 * 7) == 0:
            weeks = hours // (24 * 7)
            return "weekly" if weeks == 1 else f"every {weeks} weeks"
        if hours % 24 == 0:
            days = hours // 24
            return "every other day" if days == 2 else f"every {days} days"
        return f"every {hours} hours"
    per_day = Fraction(24) / interval
    if per_day.denominator == 1:
        return f"{per_day.numerator} times a day"
    per_week = Fraction(24 * 7) / interval
    if per_week.denominator == 1:
        return f"{per_week.numerator} times a week"
    return None


#: ``timing.repeat``'s numbers (FHIR R4: ``positiveInt``, or a ``decimal`` above zero), in a clinician's words.
_REPEAT_WHOLE: Final = {
    "frequency": "how many times per period it is given",
    "frequencyMax": "the most times per period it may be given",
    "count": "the number of doses in all",
    "countMax": "the most doses in all",
}
_REPEAT_DECIMAL: Final = {
    "period": "the period it is repeated over",
    "periodMax": "the longest period it is repeated over",
}
_REPEAT_BOUNDS: Final = (
    ("frequency", "frequencyMax", "the most times per period it may be given is below the fewest"),
    ("period", "periodMax", "the longest period it is repeated over is shorter than the shortest"),
    ("count", "countMax", "the most doses in all is below the fewest"),
)


def _repeat_problem(repeat: dict[str, Any]) -> str | None:
    """Why ``timing.repeat`` cannot be read as the order wrote it (a value that is not valid is never read as
    another: frequency "2" is not 1), or ``None``."""
    for key, what in _REPEAT_WHOLE.items():
        if key in repeat and _whole(repeat[key]) is None:
            return f"{what} is not a whole number above zero"
    for key, what in _REPEAT_DECIMAL.items():
        if key in repeat and _number(repeat[key]) is None:
            return f"{what} is not a number above zero"
    if "periodUnit" in repeat and _str(repeat["periodUnit"]) not in _PERIOD_HOURS:
        return "its period is not in a unit of time"
    for least, most, why in _REPEAT_BOUNDS:
        low, high = _number(repeat.get(least)), _number(repeat.get(most))
        if low is not None and high is not None and high < low:
            return why
    return None


def _repeat_frequency(repeat: dict[str, Any], reading: DoseReading) -> str | bool | None:
    """A frequency from ``timing.repeat`` (its values valid, see :func:`_repeat_problem`); ``False`` when the
    repeat says nothing about how often."""
    frequency = _whole(repeat.get("frequency"))
    frequency_max = _whole(repeat.get("frequencyMax"))
    period = _number(repeat.get("period"))
    period_max = _number(repeat.get("periodMax"))
    unit = _str(repeat.get("periodUnit"))
    days = [_DAY_CODES[d] for d in _list(repeat.get("dayOfWeek")) if isinstance(d, str) and d in _DAY_CODES]
    times = [t for t in _list(repeat.get("timeOfDay")) if isinstance(t, str)]
    when = [w for w in _list(repeat.get("when")) if isinstance(w, str)]
    named = max(len(set(times)), len(set(when)))  # each time of day or event of the day is an administration
    if period is None and unit == "" and frequency is None and frequency_max is None:
        if days:
            if named > 1:
                return None
            return " ".join(days)
        if times or when:
            return "daily" if named <= 1 else f"{named} times a day"
        return False
    if period is None or unit not in _PERIOD_HOURS:
        return None
    count = frequency or 1
    if frequency_max is not None and frequency_max > count:
        count = frequency_max
        reading.notes.append(f"assessed at the most frequent use ordered ({frequency or 1}–{frequency_max} times)")
    if period_max is not None and period_max != period:
        reading.notes.append("assessed at the shortest interval ordered")
    daily = (unit == "d" and period == 1) or (unit == "h" and period == 24)
    if days:  # once on each of these days (a daily or weekly period); anything else is not read
        return " ".join(days) if count == 1 and (daily or (unit == "wk" and period == 1)) else None
    if daily and named > count:  # never fewer than the times of day it names
        reading.notes.append(f"assessed as {named} times a day, one per time of day given")
        count = named
    if unit == "mo" and count == 1 and period == int(period):
        return "monthly" if period == 1 else f"every {int(period)} months"
    return _period_phrase(period, unit, count)


@lru_cache(maxsize=1024)
def _period_phrase(period: Decimal, unit: str, count: int) -> str | None:
    """``count`` administrations every ``period`` ``unit``, as a frequency the dose check reads (the few
    timings EHRs send, kept)."""
    return _interval_phrase(Fraction(str(period)) * _PERIOD_HOURS[unit], count)


def _code_frequencies(concept: dict[str, Any]) -> list[tuple[str, str]]:
    """Each frequency ``timing.code`` gives, with what gives it: its codes (GTS), then its text and the
    codings' displays read as a frequency."""
    found: list[tuple[str, str]] = []
    for coding in _list(concept.get("coding")):
        code = _str(_dict(coding).get("code")).upper()
        if code in GTS:
            found.append((f"its code {code}", GTS[code]))
            continue
        every = _GTS_EVERY.match(code)
        if every:
            n, unit = int(every.group(1)), every.group(2)
            frequency = _normalised(f"every {n} {_GTS_UNIT_WORDS[unit]}") if n >= 1 else None
            if frequency:
                found.append((f"its code {code}", frequency))
    texts = [_str(concept.get("text"))] + [_str(_dict(c).get("display")) for c in _list(concept.get("coding"))]
    for text in texts:
        if not text:
            continue
        if text.upper() in GTS:
            found.append(("its text", GTS[text.upper()]))
            continue
        normalised = _normalised(text)
        if normalised:
            found.append(("its text", normalised))
    return found


def _per_day(frequency: str) -> Fraction | None:
    """Administrations a day on average (a single administration: 0); ``None`` when it cannot be read."""
    try:
        read = parse_frequency(frequency)
    except DoseInputError:
        return None
    if read.period_days is None:
        return Fraction(0)
    return Fraction(read.administrations) / Fraction(str(read.period_days))


def _normalised(text: str) -> str | None:
    """``text`` when the dose check reads it as a frequency."""
    try:
        parse_frequency(text)
    except DoseInputError:
        return None
    return text


def _timing(dosage: dict[str, Any], reading: DoseReading) -> str | None:
    timing = _dict(dosage.get("timing"))
    repeat = _dict(timing.get("repeat"))
    invalid = _repeat_problem(repeat)
    if invalid is not None:  # never read as another value, nor replaced by the timing's code
        reading.problem = f"how often it is given could not be read from the order's timing, as {invalid}"
        return None
    from_repeat = _repeat_frequency(repeat, reading) if repeat else False
    if from_repeat is None:  # never replaced by the code: the repeat may say more often
        reading.problem = "how often it is given could not be read from the order's timing"
        return None
    least, most = _whole(repeat.get("count")) or 1, _whole(repeat.get("countMax")) or _whole(repeat.get("count"))
    if most == 1:  # FHIR R4 Timing.repeat.count: one administration in all, however often it would repeat
        reading.notes.append("a single administration: the order's timing gives 1 dose in all")
        return "once"
    frequency = _given_frequency(timing, from_repeat, reading)
    if frequency is not None and most is not None:
        total = f"{least}–{most}" if least != most else str(most)
        reading.notes.append(f"the order's timing gives {total} doses in all")
    return frequency


def _given_frequency(timing: dict[str, Any], from_repeat: str | bool, reading: DoseReading) -> str | None:
    """The frequency the timing gives; when its repeat, codes and texts give different ones, the most
    frequent, said and never reassuring."""
    given = [("its schedule", from_repeat)] if isinstance(from_repeat, str) else []
    given += _code_frequencies(_dict(timing.get("code")))
    if len(given) <= 1:
        return given[0][1] if given else None
    rates = [_per_day(frequency) for _, frequency in given]
    known = [rate for rate in rates if rate is not None]
    if len(known) < len(rates):
        reading.problem = "how often it is given could not be read from the order's timing"
        return None
    lead = max(range(len(given)), key=lambda n: (known[n], -n))  # the first of the most frequent
    if len(set(known)) > 1:
        said = []
        for source, frequency in given:
            if f"{frequency} by {source}" not in said:
                said.append(f"{frequency} by {source}")
        reading.notes.append(
            f"the order's timing gives different frequencies ({', '.join(said)}): assessed at the most "
            f"frequent, {given[lead][1]}"
        )
        reading.leave_open("the order's timing gives different frequencies")
    return given[lead][1]


# --------------------------------------------------------------------------------------------------
# Amount, unit, route


#: FHIR R4 Quantity.comparator: how the value is to be understood, in a clinician's words.
_COMPARATORS: Final = {"<": "less than", "<=": "at most", ">=": "at least", ">": "more than"}
_NO_UPPER_LIMIT: Final = frozenset({">=", ">"})
_COUNTED: Final = frozenset({"tablet", "injection", "capsule"})


@dataclass(frozen=True, slots=True)
class _Quantity:
    value: Decimal | None
    unit: str
    """The unit the dose check reads: the UCUM code, else the unit text."""
    comparator: str
    """``<``, ``<=``, ``>=``, ``>``; ``""`` when the value is the amount itself."""

    def shown(self) -> str:
        return f"{_fmt(self.value)} {self.unit}" if self.value is not None else self.unit


def _unit_kind(text: str) -> str | None:
    """What a unit names: a unit of mass (its canonical code), a tablet, injection or capsule, or one of
    the product (``each``); ``None`` when it is not recognised."""
    lowered = text.strip().lower()
    for kind, units in (
        ("tablet", _TABLET_UNITS),
        ("injection", _INJECTION_UNITS),
        ("capsule", _CAPSULE_UNITS),
        ("each", _EACH_UNITS),
    ):
        if lowered in units:
            return kind
    try:
        return normalise_unit(text)
    except DoseInputError:
        return None


def _quantity(quantity: dict[str, Any], reading: DoseReading) -> _Quantity | None:
    """A Quantity as the order wrote it; ``None`` (why in ``reading.problem``) when its unit and its code
    name different units (ug and mg: never one of them silently), or its comparator cannot be read."""
    code, text = _str(quantity.get("code")), _str(quantity.get("unit"))
    kinds = {_unit_kind(code), _unit_kind(text)} if code and text else set()
    if None not in kinds and len(kinds) > 1 and not ("each" in kinds and kinds - {"each"} <= _COUNTED):
        reading.problem = f"the dose's unit ({text}) and its code ({code}) disagree"
        return None
    comparator = quantity.get("comparator", "")
    if not isinstance(comparator, str) or (comparator and comparator not in _COMPARATORS):
        reading.problem = "the dose amount is qualified in a way that cannot be read (neither at most nor at least)"
        return None
    return _Quantity(_number(quantity.get("value")), code or text, comparator)


def _doses(dosage: dict[str, Any], strength: tuple[Decimal, str] | None, reading: DoseReading) -> bool:
    """Every ``doseAndRate`` entry's dose into ``reading``; ``False`` (why in ``reading.problem``) when one
    cannot be read. Entries that give different doses (a calculated and an ordered dose) are assessed at the
    largest, the safer reading for an upper limit, never reassuring; the same dose twice is one dose."""
    parts = []
    for entry in map(_dict, _list(dosage.get("doseAndRate"))):
        part = _entry_dose(entry, strength)
        if part is None:
            continue
        reading.notes.extend(note for note in part.notes if note not in reading.notes)
        if part.problem is not None or part.amount is None or part.unit is None:
            reading.problem = part.problem or "the dose amount in the order could not be read"
            return False
        for what in (part.uncertain or "").split("; "):
            if what:
                reading.leave_open(what)
        parts.append((entry, part, part.amount, part.unit))
    if not parts:
        reading.problem = "the order states no dose amount"
        return False
    lead = 0
    if len(parts) > 1:
        in_mg = _in_mg([(amount, unit) for _, _, amount, unit in parts])
        if in_mg is None:
            reading.problem = "the order gives several doses in units that cannot be compared"
            return False
        lead = max(range(len(parts)), key=lambda n: (in_mg[n], -n))  # the first of the largest
        if len(set(in_mg)) > 1:
            listed = [f"{_fmt(amount)} {unit}{_dose_type(entry)}" for entry, _, amount, unit in parts]
            reading.notes.insert(
                0,
                f"the order gives different doses, {', '.join(listed[:-1])} and {listed[-1]}: assessed at the "
                f"largest, {_fmt(parts[lead][2])} {parts[lead][3]}",
            )
            reading.leave_open("the order gives different doses")
    reading.amount, reading.unit = parts[lead][2], parts[lead][3]
    return True


def _in_mg(doses: list[tuple[Decimal, str]]) -> list[Decimal] | None:
    """The doses in mg (or all in mg/kg); ``None`` when they cannot all be put in one unit."""
    try:
        per_kg = {normalise_unit(unit).endswith("/kg") for _, unit in doses}
        in_mg = [to_mg(amount, unit) for amount, unit in doses]
    except DoseInputError:
        return None
    return in_mg if len(per_kg) == 1 else None


def _dose_type(entry: dict[str, Any]) -> str:
    """`` (ordered)``: the kind of dose an entry gives (its ``type``), or ``""``."""
    concept = _dict(entry.get("type"))
    codings = [_dict(c) for c in _list(concept.get("coding"))]
    labels = [_str(concept.get("text"))] + [_str(c.get("display")) for c in codings]
    label = next((t for t in labels + [_str(c.get("code")) for c in codings] if t), "")
    return f" ({label[:_TYPE_SHOWN]})" if label else ""


_TYPE_SHOWN: Final = 40


def _entry_dose(entry: dict[str, Any], strength: tuple[Decimal, str] | None) -> DoseReading | None:
    """One ``doseAndRate`` entry's dose as a reading of its own (amount, unit, notes, what it leaves open or
    why it cannot be read); ``None`` when the entry gives no dose (a rate only)."""
    part = DoseReading()
    quantity = _dict(entry.get("doseQuantity"))
    dose_range = _dict(entry.get("doseRange"))
    if quantity:
        amount = _dose_quantity(quantity, part)
    elif dose_range:
        amount = _range(dose_range, part)
    else:
        return None
    if amount is not None:
        _unit(amount[0], amount[1], strength, part)
    return part


def _dose_quantity(quantity: dict[str, Any], reading: DoseReading) -> tuple[Decimal, str] | None:
    """A ``doseQuantity`` as the amount to assess; its comparator is said and never reassures."""
    read = _quantity(quantity, reading)
    if read is None:
        return None
    if read.value is None:
        reading.problem = "the dose amount in the order is not a number above zero"
        return None
    if read.comparator in _NO_UPPER_LIMIT:  # as a dose range without its high end
        reading.notes.append(
            f"the order gives the dose as {_COMPARATORS[read.comparator]} {read.shown()}, with no upper "
            "limit: assessed at that amount only"
        )
        reading.leave_open("the dose has no upper limit")
    elif read.comparator:
        reading.notes.append(
            f"the order gives the dose as {_COMPARATORS[read.comparator]} {read.shown()}: assessed at that amount"
        )
        reading.leave_open("the order gives only the most the dose may be")
    return read.value, read.unit


def _range(dose_range: dict[str, Any], reading: DoseReading) -> tuple[Decimal, str] | None:
    """A ``doseRange`` at its upper end; an end given whose amount cannot be read, or a low end above the
    high end, is not assessed (never read as a range without that end, nor turned around)."""
    ends: dict[str, tuple[Decimal, str] | None] = {}
    open_ended = False
    for end in ("low", "high"):
        given = _dict(dose_range.get(end))
        read = _quantity(given, reading)
        if read is None:
            return None
        if given and read.value is None and "value" in given:
            reading.problem = f"the dose range in the order has no readable amount at its {end} end"
            return None
        ends[end] = (read.value, read.unit) if read.value is not None else None
        open_ended = end == "high" and read.value is not None and read.comparator in _NO_UPPER_LIMIT
    low, high = ends["low"], ends["high"]
    if high is None and low is not None:
        reading.notes.append("the dose range has no upper limit: assessed at its lower limit only")
        reading.leave_open("the dose range has no upper limit")
        return low
    if high is None:
        reading.problem = "the dose range in the order has no readable amount"
        return None
    if open_ended:  # "high >= 4.5 mg": as a range without its high end
        reading.notes.append("the dose range's upper end is given with no limit: assessed at that amount only")
        reading.leave_open("the dose range has no upper limit")
    if low is None:
        reading.notes.append("assessed at the dose range's upper limit")
        return high
    low_unit, high_unit = low[1] or high[1], high[1] or low[1]  # one end's unit stands for both
    above = _above(low[0], low_unit, high[0], high_unit)
    if above is None:
        reading.problem = "the two ends of the dose range in the order are in units that cannot be compared"
        return None
    if above:
        reading.problem = (
            f"the dose range's low end ({_fmt(low[0])} {low_unit}) is above its high end ({_fmt(high[0])} {high_unit})"
        )
        return None
    shown = f"{_fmt(low[0])}–{_fmt(high[0])} {high_unit}"
    if not _same_unit(low_unit, high_unit):
        shown = f"{_fmt(low[0])} {low_unit}–{_fmt(high[0])} {high_unit}"
    reading.notes.append(f"dose range {shown}: assessed at the upper end")
    return high[0], high_unit


def _same_unit(first: str, second: str) -> bool:
    return first.strip().lower() == second.strip().lower()


def _above(first: Decimal, first_unit: str, second: Decimal, second_unit: str) -> bool | None:
    """Whether ``first`` is more than ``second`` (in mg when their units differ); ``None`` when it cannot
    be said (units that are not the same and not both units of mass, or one per kg and one not)."""
    if _same_unit(first_unit, second_unit):
        return first > second
    try:
        if normalise_unit(first_unit).endswith("/kg") != normalise_unit(second_unit).endswith("/kg"):
            return None
        return to_mg(first, first_unit) > to_mg(second, second_unit)
    except DoseInputError:
        return None


def _unit(value: Decimal, unit: str, strength: tuple[Decimal, str] | None, reading: DoseReading) -> bool:
    lowered = unit.strip().lower()
    stated = strength is not None and strength[1] == STATED_BY_MEDICATION
    if lowered in _CAPSULE_UNITS and not stated:  # compounded LDN capsules: only the Medication can say
        reading.problem = (
            f"the dose is given as {_fmt(value)} capsule{'s' if value != 1 else ''} and the capsule strength "
            "is not known from the order"
        )
        return False
    if lowered in _TABLET_UNITS | _INJECTION_UNITS | _EACH_UNITS | _CAPSULE_UNITS:
        what = (
            "tablet"
            if lowered in _TABLET_UNITS
            else "injection"
            if lowered in _INJECTION_UNITS
            else "capsule"
            if lowered in _CAPSULE_UNITS
            else "unit"
        )
        if strength is None:
            reading.problem = (
                f"the dose is given as {_fmt(value)} {what}{'s' if value != 1 else ''} and the product's "
                "strength is not known from the order (its code and its Medication do not give one strength)"
            )
            return False
        mg, source = strength
        reading.amount, reading.unit = value * mg, "mg"
        reading.notes.append(f"{_fmt(value)} {what}{'s' if value != 1 else ''} of {_fmt(mg)} mg ({source})")
        return True
    if not unit:
        reading.problem = "the order gives the dose without a unit"
        return False
    reading.amount, reading.unit = value, unit
    return True


def _route(dosage: dict[str, Any]) -> str | None:
    concept = _dict(dosage.get("route"))
    for coding in _list(concept.get("coding")):
        code = _str(_dict(coding).get("code"))
        if code in SNOMED_ROUTES:
            return SNOMED_ROUTES[code]
    texts = [_str(concept.get("text"))] + [_str(_dict(c).get("display")) for c in _list(concept.get("coding"))]
    for text in texts:
        if not text:
            continue
        found = _text_route(text) if len(text) <= _ROUTE_TEXT_KEPT else _read_route(text)
        if found:
            return found
    return None


_ROUTE_TEXT_KEPT: Final = 100
"""Route texts up to this length are read once (EHRs send the same few: "Oral route", "by mouth")."""


def _read_route(text: str) -> str | None:
    try:
        found = parse_route(text)
    except DoseInputError:
        found = None
    if found:
        return found
    lowered = text.lower()
    for word, route in _ROUTE_WORDS:
        if word in lowered:
            return route
    return None


_text_route = lru_cache(maxsize=1024)(_read_route)


def read_dosage(dosage: dict[str, Any], strength: tuple[Decimal, str] | None) -> DoseReading:
    """The dose check's inputs from a Dosage (see the module's docstring)."""
    reading = DoseReading()
    reading.route = _route(dosage)
    if reading.route is None and _dict(dosage.get("route")):
        reading.notes.append("the order's route was not recognised: compared on the dose alone")
        reading.uncertain = "route not recognised"
    as_needed = dosage.get("asNeededBoolean") is True or isinstance(dosage.get("asNeededCodeableConcept"), dict)
    reading.as_needed = as_needed
    if not _doses(dosage, strength, reading):
        return reading
    frequency = _timing(dosage, reading)
    if frequency is None:
        if reading.problem is None:
            reading.problem = (
                "it is taken as needed and the order states no most frequent use"
                if as_needed
                else "the order does not say how often it is given"
            )
        return reading
    if as_needed:
        reading.notes.append("as needed: assessed at the most frequent use ordered")
    reading.frequency = frequency
    return reading
