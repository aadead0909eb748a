"""Dose arithmetic: parse a dose, normalise it to milligrams, and place it against documented ranges.

Pure and exact. ``decimal.Decimal`` throughout (a float input is converted with ``Decimal(str(x))``; no
float arithmetic anywhere); no I/O, no web or database imports. No number of the knowledge base is
written here: the ranges come from the caller as :class:`RangeSpec` values.

Rules
-----
Units
    Mass units ``g``, ``mg``, ``ug`` (also ``mcg``, ``µg`` U+00B5, ``μg`` U+03BC, ``microgram``) and ``ng``,
    matched without regard to case (UCUM's case-insensitive ``MG``/``UG``/``G`` included; ``Mg`` is read
    as milligram, since no one doses megagrams). Weight-based units are a mass unit per kg (``mg/kg``,
    ``ug/kg``, ``mg per kg``) and need ``weight_kg``.
Periods
    A range's period unit ``d`` is 1 day, ``wk`` 7 days, ``mo`` **28 days**: the monthly injectable is
    given every 4 weeks, and 28 days makes "monthly" and "every 4 weeks" one and the same frequency.
Common basis
    The average amount per day: amount per period ÷ period length in days. Comparisons are exact: rates
    are cross-multiplied, never divided. The mg-per-day figures in results are rounded for display only
    (to 6 decimal places, or 6 significant digits below 0.1, trailing zeros removed: 4.5 prints as 4.5).
Limits
    An amount must be finite and greater than zero, with at most 30 significant digits. After conversion
    a dose must be at least 1 pg (1e-9 mg) per administration, at most 10 g per administration and at
    most 10 g per day on average. A body weight must lie within 0.5–500 kg.
Single administration ("once")
    It has no mg per day (``mg_per_day`` is ``None``). It is compared per administration: against the
    range's amount per administration, and for a range stated per period against the amount of one
    period taken as one administration (so a single 380 mg injection fits "380 mg per 4 weeks"). Each
    match's note says so.
``per="administration"`` ranges
    The range bounds one administration, given once per period. A repeated dose is inside only when
    every administration and the average per day are both inside; otherwise it is above when either
    is above, else below.
Weight-based ranges
    With a body weight (a weight-based dose always has one) the bounds become mg: figure × weight, and
    the cap (an inclusive maximum) replaces any bound above it. Without a weight the range is not
    comparable (``position`` is ``None``).
Routes
    ``oral``/``po``/``by mouth``, ``intramuscular``/``im``; also recognised, and documented by no range
    today: ``subcutaneous``, ``intravenous``, ``sublingual``, ``topical``, ``transdermal`` and the
    unspecific ``injection`` (which matches no intramuscular range: it does not say which injection).
    When the dose states a route, a range of another route is not comparable: its position by amount is
    still reported, with the mismatch, but it never makes the dose "documented". Without a route every
    range is comparable and each note says which route the range is for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Final, Literal

__all__ = [
    "MAX_MG_PER_ADMINISTRATION",
    "MAX_MG_PER_DAY",
    "MAX_WEIGHT_KG",
    "MIN_MG_PER_ADMINISTRATION",
    "MIN_WEIGHT_KG",
    "PERIOD_DAYS",
    "AmountLike",
    "Classification",
    "Dose",
    "DoseInputError",
    "DoseWarning",
    "Frequency",
    "Match",
    "Position",
    "RangeSpec",
    "ScheduleEntry",
    "WeightCheck",
    "classify",
    "dose_warnings",
    "from_mg",
    "match_range",
    "normalise_unit",
    "parse_amount",
    "parse_days",
    "parse_dose",
    "parse_frequency",
    "parse_route",
    "parse_schedule",
    "parse_weight",
    "route_mismatch",
    "to_mg",
    "weight_based_check",
]

AmountLike = Decimal | str | int | float
Position = Literal["inside", "below", "above"]
Basis = Literal["average-per-day", "per-administration", "both"]

MIN_MG_PER_ADMINISTRATION: Final = Decimal("0.000000001")
"""1 pg: anything smaller is taken for a unit mistake."""
MAX_MG_PER_ADMINISTRATION: Final = Decimal(10000)
"""10 g in one administration."""
MAX_MG_PER_DAY: Final = Decimal(10000)
"""10 g per day on average."""
MIN_WEIGHT_KG: Final = Decimal("0.5")
MAX_WEIGHT_KG: Final = Decimal(500)
PERIOD_DAYS: Final[dict[str, Decimal]] = {"d": Decimal(1), "wk": Decimal(7), "mo": Decimal(28)}
"""Length in days of a range's period unit (a month is 4 weeks: see the module notes)."""

_MAX_DIGITS = 30
_MAX_ADMINISTRATIONS_PER_DAY = 24

# Exact arithmetic: inputs have at most 30 significant digits, so products never need rounding here.
_CTX: Final = Context(
    prec=120,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class DoseInputError(ValueError):
    """A dose input the arithmetic refuses; ``field`` is the API request field to name in a 422."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --------------------------------------------------------------------------------------------------
# Decimal helpers


def _mul(*values: Decimal) -> Decimal:
    result = Decimal(1)
    for value in values:
        result = _CTX.multiply(result, value)
    return result


def _tidy(value: Decimal) -> Decimal:
    """Trailing zeros removed, never in exponent form for whole numbers (100, not 1E+2)."""
    if value == 0:
        return Decimal(0)
    out = _CTX.normalize(value)
    exponent = out.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        out = out.quantize(Decimal(1), context=_CTX)
    return out


def _display(value: Decimal) -> Decimal:
    """Rounded for display: 6 decimal places, or 6 significant digits for values below 0.1."""
    if value == 0:
        return Decimal(0)
    exponent = min(-6, value.adjusted() - 5)
    return _tidy(value.quantize(Decimal(1).scaleb(exponent), context=_CTX))


def _div_display(numerator: Decimal, denominator: Decimal) -> Decimal:
    return _display(_CTX.divide(numerator, denominator))


def _fmt(value: Decimal) -> str:
    return str(_display(value))


# --------------------------------------------------------------------------------------------------
# Amounts, weights, units, routes


def parse_amount(value: AmountLike, field: str = "amount") -> Decimal:
    """A finite positive Decimal from a Decimal, int, str or float (floats via ``str``)."""
    if isinstance(value, bool):
        raise DoseInputError(field, "must be a number, not a boolean")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise DoseInputError(field, "is empty")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise DoseInputError(field, f"{value!r} is not a number") from None
    else:
        raise DoseInputError(field, "must be a number")
    if number.is_nan():
        raise DoseInputError(field, "is not a number (NaN)")
    if number.is_infinite():
        raise DoseInputError(field, "must be finite")
    if number <= 0:
        raise DoseInputError(field, "must be greater than zero")
    if len(number.as_tuple().digits) > _MAX_DIGITS or not -_MAX_DIGITS <= number.adjusted() <= _MAX_DIGITS:
        raise DoseInputError(field, "is out of range or has too many digits")
    return _tidy(number)


def parse_weight(value: AmountLike | None) -> Decimal | None:
    """A body weight in kg within 0.5–500 kg, or ``None`` when not given."""
    if value is None:
        return None
    weight = parse_amount(value, "weight_kg")
    if not MIN_WEIGHT_KG <= weight <= MAX_WEIGHT_KG:
        raise DoseInputError("weight_kg", f"must lie within {MIN_WEIGHT_KG}–{MAX_WEIGHT_KG} kg")
    return weight


_MASS_FACTORS: Final[dict[str, Decimal]] = {
    "g": Decimal(1000),
    "mg": Decimal(1),
    "ug": Decimal("0.001"),
    "ng": Decimal("0.000001"),
}
_MASS_ALIASES: Final[dict[str, str]] = {
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "ug": "ug",
    "mcg": "ug",
    "microgram": "ug",
    "micrograms": "ug",
    "ng": "ng",
    "nanogram": "ng",
    "nanograms": "ng",
}


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str
    mass: str
    per_kg: bool

    @property
    def factor(self) -> Decimal:
        return _MASS_FACTORS[self.mass]


def _unit(text: str, field: str = "unit") -> _Unit:
    raw = text.strip().replace("\u00b5", "u").replace("\u03bc", "u").lower()
    raw = re.sub(r"\s+", " ", raw)
    raw = re.sub(r"\s*/\s*", "/", raw).replace(" per ", "/")
    mass_text, slash, rest = raw.partition("/")
    mass = _MASS_ALIASES.get(mass_text.strip())
    if mass is None or (slash and rest.strip() not in {"kg", "kilogram"}):
        raise DoseInputError(
            field, f"unknown unit {text!r}: use mg, ug (mcg, µg), ng or g, or one of these per kg (mg/kg)"
        )
    per_kg = bool(slash)
    return _Unit(code=f"{mass}/kg" if per_kg else mass, mass=mass, per_kg=per_kg)


def normalise_unit(unit: str) -> str:
    """The canonical code of a unit: ``mg``, ``ug``, ``ng``, ``g`` or one of them ``/kg``."""
    return _unit(unit).code


def to_mg(amount: Decimal, unit: str) -> Decimal:
    """``amount`` in mg (in mg/kg for a per-kg unit); exact."""
    return _tidy(_mul(amount, _unit(unit).factor))


def from_mg(mg: Decimal, unit: str) -> Decimal:
    """``mg`` (or mg/kg) expressed in ``unit``; exact, the inverse of :func:`to_mg`."""
    return _tidy(_CTX.divide(mg, _unit(unit).factor))


_ROUTES: Final[dict[str, str]] = {
    "oral": "oral",
    "orally": "oral",
    "po": "oral",
    "by mouth": "oral",
    "per os": "oral",
    "intramuscular": "intramuscular",
    "intramuscularly": "intramuscular",
    "im": "intramuscular",
    "intramuscular injection": "intramuscular",
    "im injection": "intramuscular",
    "subcutaneous": "subcutaneous",
    "subcutaneously": "subcutaneous",
    "sc": "subcutaneous",
    "sq": "subcutaneous",
    "subq": "subcutaneous",
    "sub q": "subcutaneous",
    "intravenous": "intravenous",
    "intravenously": "intravenous",
    "iv": "intravenous",
    "sublingual": "sublingual",
    "sl": "sublingual",
    "topical": "topical",
    "transdermal": "transdermal",
    "injection": "injection",
    "injectable": "injection",
    "parenteral": "injection",
}


def parse_route(route: str | None) -> str | None:
    """The canonical route (``oral``, ``intramuscular``, ...), ``None`` when not given or blank."""
    if route is None:
        return None
    text = re.sub(r"\s+", " ", route.strip().lower().replace(".", "").replace("-", " "))
    if not text:
        return None
    found = _ROUTES.get(text)
    if found is None:
        raise DoseInputError("route", f"unknown route {route!r}: use oral (po) or intramuscular (im)")
    return found


# --------------------------------------------------------------------------------------------------
# Frequencies and days of the week

_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_TOKENS: Final[dict[str, int]] = {}
for _index, _names in enumerate(
    (
        ("monday", "mon"),
        ("tuesday", "tue", "tues"),
        ("wednesday", "wed"),
        ("thursday", "thu", "thur", "thurs"),
        ("friday", "fri"),
        ("saturday", "sat"),
        ("sunday", "sun"),
    )
):
    for _name in _names:
        _DAY_TOKENS[_name] = _index
        _DAY_TOKENS[_name + "s"] = _index
_DAY_GROUPS: Final[dict[str, tuple[int, ...]]] = {
    "weekdays": (0, 1, 2, 3, 4),
    "weekday": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "daily": (0, 1, 2, 3, 4, 5, 6),
}
_DAY_FILLER: Final = frozenset({"on", "and", "plus", "every", "each", "the", "also", "of", "then"})


def _days_text(days: Sequence[int]) -> str:
    """Mon–Fri, Sat: runs of three or more days as a span."""
    parts: list[str] = []
    ordered = sorted(set(days))
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{_DAY_NAMES[ordered[start]]}–{_DAY_NAMES[ordered[end]]}")
        else:
            parts.extend(_DAY_NAMES[d] for d in ordered[start : end + 1])
        start = end + 1
    return ", ".join(parts)


def parse_days(text: str) -> tuple[int, ...]:
    """Days of the week named in ``text`` (0 = Monday … 6 = Sunday), sorted.

    Understands day names and their short forms, plurals, ``weekdays``, ``weekends``, ``daily``,
    spans (``mon-fri``, ``monday to friday``, wrapping ``fri-mon``) and lists joined by commas, ``/``,
    ``&``, ``+``, ``and``, ``plus``. A day named twice is an error (field ``frequency``).
    """
    norm = text.lower().replace("–", "-").replace("—", "-")
    norm = re.sub(r"\bevery day\b", "daily", norm)
    norm = re.sub(r"\s+(?:to|through|thru|till|until)\s+", "-", norm)
    norm = re.sub(r"[,;/&+]", " ", norm).replace("-", " - ")
    tokens = norm.split()
    days: list[int] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _DAY_FILLER:
            i += 1
        elif token in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[token])
            i += 1
        elif token in _DAY_TOKENS:
            first = _DAY_TOKENS[token]
            if i + 2 < len(tokens) and tokens[i + 1] == "-" and tokens[i + 2] in _DAY_TOKENS:
                last = _DAY_TOKENS[tokens[i + 2]]
                span = (last - first) % 7
                days.extend((first + k) % 7 for k in range(span + 1))
                i += 3
            else:
                days.append(first)
                i += 1
        else:
            raise DoseInputError("frequency", f"{token!r} is not a day of the week in {text!r}")
    if not days:
        raise DoseInputError("frequency", f"no day of the week in {text!r}")
    if len(set(days)) != len(days):
        raise DoseInputError("frequency", f"a day is named twice in {text!r}")
    return tuple(sorted(days))


@dataclass(frozen=True, slots=True)
class Frequency:
    """``administrations`` given in every ``period_days`` days; ``period_days`` is ``None`` for "once"."""

    administrations: int
    period_days: Decimal | None
    description: str
    days_of_week: tuple[int, ...] = ()

    @property
    def single(self) -> bool:
        return self.period_days is None

    @property
    def administrations_per_day(self) -> Decimal | None:
        if self.period_days is None:
            return None
        return _div_display(Decimal(self.administrations), self.period_days)


def _frequency(administrations: int, period_days: int) -> Frequency:
    g = math.gcd(administrations, period_days)
    count, days = administrations // g, period_days // g
    if count > _MAX_ADMINISTRATIONS_PER_DAY * days:
        raise DoseInputError("frequency", f"more than {_MAX_ADMINISTRATIONS_PER_DAY} administrations a day")
    return Frequency(count, Decimal(days), f"{count} per {days} d")


_SINGLE: Final = frozenset(
    {"once", "once only", "single", "single dose", "one dose", "one time", "stat", "single administration", "one off"}
)
_FIXED: Final[dict[str, tuple[int, int]]] = {
    **dict.fromkeys(
        (
            "daily",
            "od",
            "nightly",
            "once nightly",
            "every night",
            "each night",
            "at night",
            "at bedtime",
            "bedtime",
            "qhs",
            "hs",
            "nocte",
            "qn",
            "every evening",
            "each evening",
            "in the evening",
            "once every evening",
            "every morning",
            "each morning",
            "in the morning",
            "mane",
            "qam",
            "qpm",
        ),
        (1, 1),
    ),
    "bid": (2, 1),
    "bd": (2, 1),
    "tid": (3, 1),
    "tds": (3, 1),
    "qid": (4, 1),
    "qds": (4, 1),
    "qod": (1, 2),
    "eod": (1, 2),
    "alternate days": (1, 2),
    "on alternate days": (1, 2),
    "weekly": (1, 7),
    "fortnightly": (1, 14),
    "monthly": (1, 28),
}
_WORD_NUMBERS: Final[dict[str, int]] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "once": 1,
    "twice": 2,
    "thrice": 3,
    "other": 2,
    "alternate": 2,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
}
_NUM = r"(\d{1,4})(?:st|nd|rd|th)?|" + "|".join(_WORD_NUMBERS)
_EVERY_RE: Final = re.compile(
    rf"^(?:(?:every|each|per|a)\s+|q\s*)(?:(?P<n>{_NUM})\s*)?"
    r"(?P<unit>h|hr|hrs|hour|hours|d|day|days|w|wk|wks|week|weeks|mo|month|months)$"
)
_TIMES_RE: Final = re.compile(
    rf"^(?P<n>{_NUM})\s*(?:x|times?)?\s*(?:a|per|each|every)?\s*"
    r"(?P<unit>daily|day|d|weekly|week|wk|w|monthly|month|mo)$"
)
_TIMING_SUFFIXES: Final = (
    "at bedtime",
    "before bedtime",
    "before bed",
    "at night",
    "in the evening",
    "in the morning",
    "with food",
    "with a meal",
)


def _number(text: str) -> int:
    digits = re.match(r"\d+", text)
    return int(digits.group()) if digits else _WORD_NUMBERS[text]


def _unit_days(unit: str) -> int:
    if unit.startswith(("d", "day")):
        return 1
    if unit.startswith("w"):
        return 7
    return 28  # months: 4 weeks, as a range's "mo"


def _fixed_frequency(norm: str) -> Frequency | None:
    if norm in _SINGLE:
        return Frequency(1, None, "single administration")
    if norm in _FIXED:
        count, days = _FIXED[norm]
        return _frequency(count, days)
    every = _EVERY_RE.match(norm)
    if every:
        n = _number(every["n"]) if every["n"] else 1
        unit = every["unit"]
        if unit.startswith("h"):
            if not 1 <= n <= 8760:
                raise DoseInputError("frequency", "the interval must be 1–8760 hours")
            g = math.gcd(24, n)
            return _frequency(24 // g, n // g)
        days = n * _unit_days(unit)
        if not 1 <= days <= 366:
            raise DoseInputError("frequency", "the interval must be one day to one year")
        return _frequency(1, days)
    times = _TIMES_RE.match(norm)
    if times:
        n = _number(times["n"])
        if n < 1:
            raise DoseInputError("frequency", "the number of administrations must be at least one")
        return _frequency(n, _unit_days(times["unit"]))
    return None


def parse_frequency(frequency: str) -> Frequency:
    """A frequency from text.

    Once per day: ``daily``, ``once daily``, ``qd``, ``od``, ``nightly``, ``every evening``, ``at bedtime``;
    ``twice daily``/``bid``, ``tid``, ``qid``, ``every N hours``/``qNh``; ``every other day``/``qod``,
    ``every third day``, ``every N days``; ``weekly``, ``every N weeks``, ``monthly``/``once a month``
    (28 days); ``N times a day/week/month``; ``once`` (a single administration); a timing suffix such as
    ``at bedtime`` is ignored. Otherwise the text is read as days of the week (``weekdays plus
    Saturday``, ``mon-fri``, ``mon/wed/fri``): one administration, of the same amount, on each day named
    (see :func:`parse_schedule` for different amounts on different days). Unknown text is an error.
    """
    norm = frequency.strip().lower().replace(".", "")
    norm = re.sub(r"[-_–]", " ", norm).replace("/", " per ")
    norm = re.sub(r"\s+", " ", norm).strip()
    if not norm:
        raise DoseInputError("frequency", "is empty")
    found = _fixed_frequency(norm)
    if found is None:
        for suffix in _TIMING_SUFFIXES:
            if norm.endswith(" " + suffix):
                found = _fixed_frequency(norm.removesuffix(" " + suffix))
                break
    if found is not None:
        return found
    try:
        days = parse_days(frequency)
    except DoseInputError:
        raise DoseInputError(
            "frequency",
            f"unknown frequency {frequency!r}: use e.g. daily, twice daily, every other day, weekly, "
            "every 4 weeks, once, or days of the week",
        ) from None
    return Frequency(len(days), Decimal(7), f"{_days_text(days)} ({len(days)} per 7 d)", days)


# --------------------------------------------------------------------------------------------------
# Doses


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One line of a weekly schedule: ``amount`` ``unit`` on each of ``days`` (0 = Monday)."""

    amount: Decimal
    unit: str
    days: tuple[int, ...]
    mg: Decimal
    """mg per administration (for a per-kg unit: amount × weight)."""


@dataclass(frozen=True, slots=True)
class Dose:
    """A parsed dose in milligrams.

    ``mg_per_administration`` is exact (for a weekly schedule: its largest administration, and
    ``mg_per_administration_min`` its smallest). ``mg_per_period`` mg are given over ``period_days`` days
    in ``administrations_per_period`` administrations, exactly; ``mg_per_day`` and
    ``administrations_per_day`` are those rounded for display. For a single administration the period,
    per-day and per-period figures are ``None``.
    """

    amount: Decimal
    unit: str
    unit_input: str
    frequency: str
    frequency_description: str
    route: str | None
    weight_kg: Decimal | None
    mg_per_administration: Decimal
    mg_per_administration_min: Decimal
    mg_per_kg_per_administration: Decimal | None
    administrations_per_period: int
    period_days: Decimal | None
    mg_per_period: Decimal | None
    mg_per_day: Decimal | None
    administrations_per_day: Decimal | None
    days_of_week: tuple[int, ...] = ()
    schedule: tuple[ScheduleEntry, ...] = ()

    @property
    def single(self) -> bool:
        return self.period_days is None

    @property
    def weight_based(self) -> bool:
        return self.mg_per_kg_per_administration is not None


def _mg_for(amount: Decimal, unit: _Unit, weight: Decimal | None) -> Decimal:
    if unit.per_kg:
        if weight is None:
            raise DoseInputError("weight_kg", f"a dose in {unit.code} needs the body weight in kg")
        return _tidy(_mul(amount, unit.factor, weight))
    return _tidy(_mul(amount, unit.factor))


def _check_limits(mg_min: Decimal, mg_max: Decimal, mg_per_period: Decimal | None, period: Decimal | None) -> None:
    if mg_min < MIN_MG_PER_ADMINISTRATION:
        raise DoseInputError("amount", "is below 1 pg per administration: check the unit")
    if mg_max > MAX_MG_PER_ADMINISTRATION:
        raise DoseInputError("amount", "is above 10 g per administration: check the amount and unit")
    if mg_per_period is not None and period is not None and mg_per_period > _mul(MAX_MG_PER_DAY, period):
        raise DoseInputError("amount", "is above 10 g per day on average: check the amount, unit and frequency")


def parse_dose(
    amount: AmountLike,
    unit: str,
    frequency: str,
    route: str | None = None,
    weight_kg: AmountLike | None = None,
) -> Dose:
    """Parse and normalise one dose; raises :class:`DoseInputError` naming the field at fault."""
    value = parse_amount(amount)
    parsed_unit = _unit(unit)
    freq = parse_frequency(frequency)
    parsed_route = parse_route(route)
    weight = parse_weight(weight_kg)
    mg = _mg_for(value, parsed_unit, weight)
    per_period = None if freq.period_days is None else _tidy(_mul(mg, Decimal(freq.administrations)))
    _check_limits(mg, mg, per_period, freq.period_days)
    return Dose(
        amount=value,
        unit=parsed_unit.code,
        unit_input=unit,
        frequency=frequency,
        frequency_description=freq.description,
        route=parsed_route,
        weight_kg=weight,
        mg_per_administration=mg,
        mg_per_administration_min=mg,
        mg_per_kg_per_administration=_tidy(_mul(value, parsed_unit.factor)) if parsed_unit.per_kg else None,
        administrations_per_period=freq.administrations,
        period_days=freq.period_days,
        mg_per_period=per_period,
        mg_per_day=None
        if per_period is None or freq.period_days is None
        else _div_display(per_period, freq.period_days),
        administrations_per_day=freq.administrations_per_day,
        days_of_week=freq.days_of_week,
    )


ScheduleItem = tuple[AmountLike, str, str | Sequence[int]]
_SCHEDULE_AMOUNT_RE: Final = re.compile(r"(?P<amount>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[a-zµμ]+(?:\s*/\s*kg)?)", re.I)


def _schedule_items(text: str) -> list[ScheduleItem]:
    items: list[ScheduleItem] = []
    found = list(_SCHEDULE_AMOUNT_RE.finditer(text))
    if not found or text[: found[0].start()].strip(" ,;+"):
        raise DoseInputError("frequency", f"a schedule reads like '50 mg weekdays + 100 mg Saturday', not {text!r}")
    for k, match in enumerate(found):
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        items.append((match["amount"], match["unit"], text[match.end() : end]))
    return items


def parse_schedule(
    schedule: str | Sequence[ScheduleItem],
    route: str | None = None,
    weight_kg: AmountLike | None = None,
) -> Dose:
    """A weekly schedule with amounts that differ by day of the week, as one :class:`Dose`.

    ``schedule`` is text such as ``"50 mg weekdays + 100 mg Saturday"`` or ``"100 mg Mon, Wed; 150 mg
    Fri"`` (each amount and unit followed by the days it is given: see :func:`parse_days`), or a list of
    ``(amount, unit, days)`` with ``days`` as text or as day numbers (0 = Monday … 6 = Sunday). All lines
    use one unit. A day named in two lines gets two administrations. The period is 7 days; the amount,
    ``mg_per_administration`` is the largest administration and ``mg_per_administration_min`` the smallest.
    """
    items = _schedule_items(schedule) if isinstance(schedule, str) else list(schedule)
    if not items:
        raise DoseInputError("frequency", "the schedule is empty")
    parsed_route = parse_route(route)
    weight = parse_weight(weight_kg)
    entries: list[ScheduleEntry] = []
    units: set[str] = set()
    parsed_unit: _Unit | None = None
    for amount, unit, days in items:
        value = parse_amount(amount)
        parsed_unit = _unit(unit)
        units.add(parsed_unit.code)
        if isinstance(days, str):
            day_numbers = parse_days(days)
        else:
            day_numbers = tuple(sorted(days))
            if (
                not day_numbers
                or any(not 0 <= d <= 6 for d in day_numbers)
                or len(set(day_numbers)) != len(day_numbers)
            ):
                raise DoseInputError("frequency", "days are distinct numbers 0 (Monday) to 6 (Sunday)")
        entries.append(ScheduleEntry(value, parsed_unit.code, day_numbers, _mg_for(value, parsed_unit, weight)))
    if len(units) != 1 or parsed_unit is None:
        raise DoseInputError("unit", "a schedule uses one unit throughout")
    count = sum(len(e.days) for e in entries)
    if count > _MAX_ADMINISTRATIONS_PER_DAY * 7:
        raise DoseInputError("frequency", f"more than {_MAX_ADMINISTRATIONS_PER_DAY} administrations a day")
    week = Decimal(7)
    total = Decimal(0)
    for e in entries:
        total = _CTX.add(total, _mul(e.mg, Decimal(len(e.days))))
    per_period = _tidy(total)
    mg_max = max(e.mg for e in entries)
    mg_min = min(e.mg for e in entries)
    _check_limits(mg_min, mg_max, per_period, week)
    largest = max(entries, key=lambda e: e.mg)
    description = " + ".join(f"{_tidy(e.amount)} {e.unit} {_days_text(e.days)}" for e in entries)
    return Dose(
        amount=largest.amount,
        unit=parsed_unit.code,
        unit_input=str(items[0][1]),
        frequency=schedule if isinstance(schedule, str) else description,
        frequency_description=f"{description} ({count} per 7 d)",
        route=parsed_route,
        weight_kg=weight,
        mg_per_administration=mg_max,
        mg_per_administration_min=mg_min,
        mg_per_kg_per_administration=_tidy(_mul(largest.amount, parsed_unit.factor)) if parsed_unit.per_kg else None,
        administrations_per_period=count,
        period_days=week,
        mg_per_period=per_period,
        mg_per_day=_div_display(per_period, week),
        administrations_per_day=_div_display(Decimal(count), week),
        days_of_week=tuple(sorted({d for e in entries for d in e.days})),
        schedule=tuple(entries),
    )


# --------------------------------------------------------------------------------------------------
# Ranges and classification


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """One source's dose range for one regimen, as the store holds it (see ``DoseRangeRecord``).

    ``min``/``max`` in ``unit`` (either may be ``None``: open) per ``period_value`` ``period_unit``
    (``d``, ``wk``, ``mo``); ``per`` is ``"period"`` (amount per period) or ``"administration"`` (amount
    of one administration, given once per period); ``cap`` in ``cap_unit`` (default: the mass part of
    ``unit``) is an inclusive maximum of the same quantity. Invalid data raises ``ValueError``.
    """

    regimen: str
    band: str
    route: str
    range_slug: str
    source: str
    label: str
    min: Decimal | None = None
    max: Decimal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    unit: str = "mg"
    period_value: Decimal = Decimal(1)
    period_unit: str = "d"
    per: str = "period"
    cap: Decimal | None = None
    cap_unit: str | None = None

    def __post_init__(self) -> None:
        try:
            _unit(self.unit)
            route = parse_route(self.route)
            if self.cap_unit is not None and _unit(self.cap_unit).per_kg:
                raise ValueError("a cap is a mass, not a mass per kg")
        except DoseInputError as exc:
            raise ValueError(f"range {self.range_slug}: {exc.message}") from None
        problems: list[str] = []
        if route is None:
            problems.append("a range needs a route")
        if self.min is None and self.max is None:
            problems.append("a range needs min, max or both")
        for name, bound in (("min", self.min), ("max", self.max), ("cap", self.cap)):
            if bound is not None and (not bound.is_finite() or bound < 0):
                problems.append(f"{name} must be a finite number, not negative")
        if not problems and self.min is not None and self.max is not None and self.min > self.max:
            problems.append("min is above max")
        if not self.period_value.is_finite() or self.period_value <= 0:
            problems.append("period_value must be greater than zero")
        if self.period_unit not in PERIOD_DAYS:
            problems.append(f"period_unit must be one of {', '.join(PERIOD_DAYS)}")
        if self.per not in {"period", "administration"}:
            problems.append("per must be 'period' or 'administration'")
        if self.cap_unit is not None and self.cap is None:
            problems.append("cap_unit without cap")
        if problems:
            raise ValueError(f"range {self.range_slug}: " + "; ".join(problems))

    @property
    def period_days(self) -> Decimal:
        return _mul(self.period_value, PERIOD_DAYS[self.period_unit])

    @property
    def weight_based(self) -> bool:
        return _unit(self.unit).per_kg

    @property
    def canonical_route(self) -> str:
        route = parse_route(self.route)
        assert route is not None  # checked in __post_init__
        return route

    def describe(self) -> str:
        """The range as text, e.g. '1–5 mg per day', 'less than 4 mg per day', '0.1 mg/kg per day (max 4.5 mg)'."""
        unit = _unit(self.unit).code
        lo, hi = self.min, self.max
        if lo is not None and hi is not None:
            if lo == hi:
                amount = f"{_tidy(lo)} {unit}"
            elif self.min_inclusive and self.max_inclusive:
                amount = f"{_tidy(lo)}–{_tidy(hi)} {unit}"
            else:
                lo_word = "at least" if self.min_inclusive else "more than"
                hi_word = "at most" if self.max_inclusive else "less than"
                amount = f"{lo_word} {_tidy(lo)} and {hi_word} {_tidy(hi)} {unit}"
        elif hi is not None:
            amount = f"{'at most' if self.max_inclusive else 'less than'} {_tidy(hi)} {unit}"
        else:
            assert lo is not None
            amount = f"{'at least' if self.min_inclusive else 'more than'} {_tidy(lo)} {unit}"
        names = {"d": ("day", "days"), "wk": ("week", "weeks"), "mo": ("month", "months")}[self.period_unit]
        value = _tidy(self.period_value)
        period = f"per {names[0]}" if value == 1 else f"per {value} {names[1]}"
        if self.per == "administration":
            period = "per administration, once " + period.removeprefix("per ")
            period = period.replace("once day", "once a day").replace("once week", "once a week")
            period = period.replace("once month", "once a month")
        text = f"{amount} {period}"
        if self.cap is not None:
            text += f" (max {_tidy(self.cap)} {self.cap_unit or _unit(self.unit).mass})"
        return text


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A range's bounds in mg (per period, or per administration), after weight and cap."""

    lo: Decimal | None
    hi: Decimal | None
    lo_inclusive: bool
    hi_inclusive: bool
    period_days: Decimal
    capped: bool
    weight_note: str


def _bounds(rng: RangeSpec, weight: Decimal | None) -> _Bounds | None:
    unit = _unit(rng.unit)
    if unit.per_kg and weight is None:
        return None
    scale = _mul(unit.factor, weight) if unit.per_kg and weight is not None else unit.factor
    lo = None if rng.min is None else _tidy(_mul(rng.min, scale))
    hi = None if rng.max is None else _tidy(_mul(rng.max, scale))
    lo_inc, hi_inc, capped = rng.min_inclusive, rng.max_inclusive, False
    note = ""
    if unit.per_kg and weight is not None:
        figures = "–".join(str(_tidy(v)) for v in dict.fromkeys(x for x in (rng.min, rng.max) if x is not None))
        mg = "–".join(str(_tidy(v)) for v in dict.fromkeys(x for x in (lo, hi) if x is not None))
        note = f"{figures} {unit.code} × {_tidy(weight)} kg = {mg} mg"
    if rng.cap is not None:
        cap = _tidy(_mul(rng.cap, _unit(rng.cap_unit or unit.mass).factor))
        if hi is None or hi > cap or (hi == cap and not hi_inc):
            hi, hi_inc, capped = cap, True, True
        if lo is not None and lo >= cap:
            lo, lo_inc = cap, True
        if capped:
            note = (note + ", " if note else "") + f"capped at {cap} mg"
    return _Bounds(lo, hi, lo_inc, hi_inc, rng.period_days, capped, note)


def _place(value: Decimal, lo: Decimal | None, hi: Decimal | None, lo_inc: bool, hi_inc: bool) -> Position:
    if lo is not None and (value < lo or (value == lo and not lo_inc)):
        return "below"
    if hi is not None and (value > hi or (value == hi and not hi_inc)):
        return "above"
    return "inside"


def _place_rate(mg: Decimal, days: Decimal, b: _Bounds) -> Position:
    """``mg`` per ``days`` against the bounds per ``b.period_days``, cross-multiplied (exact)."""
    lo = None if b.lo is None else _mul(b.lo, days)
    hi = None if b.hi is None else _mul(b.hi, days)
    return _place(_mul(mg, b.period_days), lo, hi, b.lo_inclusive, b.hi_inclusive)


def _worst(positions: Iterable[Position]) -> Position:
    seen = set(positions)
    if "above" in seen:
        return "above"
    if "below" in seen:
        return "below"
    return "inside"


@dataclass(frozen=True, slots=True)
class Match:
    """Where a dose lies against one range.

    ``position`` is by amount, whatever the route; it is ``None`` only for a weight-based range and a
    dose without a body weight. ``comparable`` is false when the route does not fit or no position could
    be found: such a match never makes a dose "documented". ``mg_min``/``mg_max`` are the range's bounds
    in mg after weight and cap (per period, or per administration for ``per="administration"``), and
    ``mg_per_day_min``/``mg_per_day_max`` the same as an average per day, rounded for display.
    """

    range: RangeSpec
    position: Position | None
    comparable: bool
    route_fits: bool
    basis: Basis
    mg_min: Decimal | None
    mg_max: Decimal | None
    mg_per_day_min: Decimal | None
    mg_per_day_max: Decimal | None
    period_days: Decimal
    capped: bool
    note: str


def _dose_text(dose: Dose) -> str:
    if dose.mg_per_day is None:
        return f"{_fmt(dose.mg_per_administration)} mg once"
    return f"{dose.mg_per_day} mg/day on average"


def match_range(dose: Dose, rng: RangeSpec) -> Match:
    """The position of ``dose`` against one range, with the route check and an explanatory note."""
    range_route = rng.canonical_route
    route_fits = dose.route is None or dose.route == range_route
    bounds = _bounds(rng, dose.weight_kg)
    notes: list[str] = []
    if bounds is None:
        notes.append(f"the range is in {_unit(rng.unit).code}: it needs a body weight")
        position: Position | None = None
        basis: Basis = "average-per-day"
        lo = hi = None
        period = rng.period_days
        capped = False
    else:
        lo, hi, period, capped = bounds.lo, bounds.hi, bounds.period_days, bounds.capped
        if dose.period_days is None or dose.mg_per_period is None:
            basis = "per-administration"
            position = _place(dose.mg_per_administration, lo, hi, bounds.lo_inclusive, bounds.hi_inclusive)
            if rng.per == "period":
                notes.append(
                    "a single administration is compared with the amount of one period, taken as one administration"
                )
        elif rng.per == "administration":
            basis = "both"
            position = _worst(
                (
                    _place(dose.mg_per_administration_min, lo, None, bounds.lo_inclusive, True),
                    _place(dose.mg_per_administration, None, hi, True, bounds.hi_inclusive),
                    _place_rate(dose.mg_per_period, dose.period_days, bounds),
                )
            )
        else:
            basis = "average-per-day"
            position = _place_rate(dose.mg_per_period, dose.period_days, bounds)
        notes.insert(0, f"{_dose_text(dose)} is {position} {rng.describe()}")
        if bounds.weight_note:
            notes.append(bounds.weight_note)
    if not route_fits:
        notes.append(f"route does not fit: the range is for {range_route} use, the dose is {dose.route}")
    elif dose.route is None:
        notes.append(f"no route given: the range is for {range_route} use")
    return Match(
        range=rng,
        position=position,
        comparable=route_fits and position is not None,
        route_fits=route_fits,
        basis=basis,
        mg_min=lo,
        mg_max=hi,
        mg_per_day_min=None if lo is None else _div_display(lo, period),
        mg_per_day_max=None if hi is None else _div_display(hi, period),
        period_days=_tidy(period),
        capped=capped,
        note="; ".join(notes),
    )


@dataclass(frozen=True, slots=True)
class Classification:
    """A dose against every given range: one match per range, in input order, and the verdict.

    ``documented``: inside at least one comparable range. ``above_all``/``below_all``: there is at least
    one comparable range, and the dose is above (below) every one. ``regimens`` and ``bands``: those with
    a comparable range the dose lies inside, in input order, without repeats.
    """

    dose: Dose
    matches: tuple[Match, ...]
    documented: bool
    above_all: bool
    below_all: bool
    regimens: tuple[str, ...]
    bands: tuple[str, ...]
    verdict: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ordered(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _verdict(dose: Dose, matches: Sequence[Match], documented: bool, above_all: bool, below_all: bool) -> str:
    if not matches:
        return "no documented range to compare with"
    comparable = [m for m in matches if m.comparable]
    parts: list[str] = []
    inside_regimens = _ordered(m.range.regimen for m in comparable if m.position == "inside")
    for regimen in inside_regimens:
        of_regimen = [m for m in comparable if m.range.regimen == regimen]
        sources = _ordered(m.range.source for m in of_regimen if m.position == "inside")
        band = of_regimen[0].range.band
        parts.append(f"inside the {band} range of {_plural(len(sources), 'source')} ({', '.join(sources)})")
        parts.extend(f"{m.position} {m.range.source}'s '{m.range.label}'" for m in of_regimen if m.position != "inside")
    if not documented:
        if not comparable and dose.route is not None and all(not m.route_fits for m in matches):
            parts.append(f"lies in no documented regimen: no range is documented for {dose.route} use")
        elif not comparable:
            parts.append("lies in no documented regimen: no range is comparable")
        elif above_all:
            parts.append("lies in no documented regimen: above every comparable range")
        elif below_all:
            parts.append("lies in no documented regimen: below every comparable range")
        else:
            regimens = _ordered(m.range.regimen for m in comparable)
            above: list[str] = []
            below: list[str] = []
            for regimen in regimens:
                ms = [m for m in comparable if m.range.regimen == regimen]
                if all(m.position == "above" for m in ms):
                    above.append(ms[0].range.band)
                elif all(m.position == "below" for m in ms):
                    below.append(ms[0].range.band)
            detail = []
            if above:
                detail.append("above " + ", ".join(_ordered(above)))
            if below:
                detail.append("below " + ", ".join(_ordered(below)))
            parts.append("lies in no documented regimen" + (": " + "; ".join(detail) if detail else ""))
    wrong_route = [m for m in matches if not m.route_fits and m.position == "inside"]
    for regimen in _ordered(m.range.regimen for m in wrong_route):
        ms = [m for m in wrong_route if m.range.regimen == regimen]
        named = ", ".join(_ordered(m.range.source for m in ms))
        parts.append(
            f"the amount fits the {ms[0].range.band} range ({named}), but that range is for "
            f"{ms[0].range.canonical_route} use and the dose is {dose.route}"
        )
    no_weight = _ordered(m.range.band for m in matches if m.position is None)
    if no_weight:
        parts.append(f"give a body weight to compare with the {', '.join(no_weight)} range")
    return "; ".join(parts)


def classify(dose: Dose, ranges: Sequence[RangeSpec]) -> Classification:
    """Place ``dose`` against every range (one :class:`Match` each, in input order) and sum it up."""
    matches = tuple(match_range(dose, rng) for rng in ranges)
    comparable = [m for m in matches if m.comparable]
    documented = any(m.position == "inside" for m in comparable)
    above_all = bool(comparable) and all(m.position == "above" for m in comparable)
    below_all = bool(comparable) and all(m.position == "below" for m in comparable)
    inside = [m for m in comparable if m.position == "inside"]
    return Classification(
        dose=dose,
        matches=matches,
        documented=documented,
        above_all=above_all,
        below_all=below_all,
        regimens=_ordered(m.range.regimen for m in inside),
        bands=_ordered(m.range.band for m in inside),
        verdict=_verdict(dose, matches, documented, above_all, below_all),
    )


# --------------------------------------------------------------------------------------------------
# Warning helpers


@dataclass(frozen=True, slots=True)
class WeightCheck:
    """A weight-based range's limit for this body weight and whether the dose exceeds it.

    ``limit_mg`` = ``mg_per_kg`` × ``weight_kg`` (``computed_mg``), lowered to ``cap_mg`` when the cap is
    lower (``capped``); per period of ``period_days`` days, or per administration (range ``per``, or a
    single dose). ``dose_mg`` is the dose on the same basis, rounded for display.
    """

    range: RangeSpec
    weight_kg: Decimal
    mg_per_kg: Decimal | None
    computed_mg: Decimal | None
    cap_mg: Decimal | None
    limit_mg: Decimal
    capped: bool
    period_days: Decimal
    dose_mg: Decimal
    exceeds: bool
    message: str


def weight_based_check(dose: Dose, rng: RangeSpec) -> WeightCheck | None:
    """For a weight-based range and a dose with a body weight: the capped limit and whether it is exceeded.

    ``None`` when the range is not weight-based, the dose has no weight, or the range has neither a
    maximum nor a cap.
    """
    unit = _unit(rng.unit)
    weight = dose.weight_kg
    if not unit.per_kg or weight is None:
        return None
    per_kg = None if rng.max is None else _tidy(_mul(rng.max, unit.factor))
    computed = None if per_kg is None else _tidy(_mul(per_kg, weight))
    cap = None if rng.cap is None else _tidy(_mul(rng.cap, _unit(rng.cap_unit or unit.mass).factor))
    candidates = [x for x in (computed, cap) if x is not None]
    if not candidates:
        return None
    limit = min(candidates)
    capped = cap is not None and (computed is None or cap < computed)
    inclusive = True if capped or computed is None else rng.max_inclusive
    period = rng.period_days
    if dose.period_days is None or dose.mg_per_period is None or rng.per == "administration":
        value, bound, dose_mg = dose.mg_per_administration, limit, _display(dose.mg_per_administration)
        basis = "per administration"
    else:
        value = _mul(dose.mg_per_period, period)
        bound = _mul(limit, dose.period_days)
        dose_mg = _div_display(value, dose.period_days)
        basis = "per day" if period == 1 else f"per {_tidy(period)} days"
    exceeds = value > bound or (value == bound and not inclusive)
    if computed is not None and per_kg is not None:
        how = f"{per_kg} mg/kg × {_tidy(weight)} kg = {computed} mg"
        how += f", capped at {cap} mg" if capped else ""
    else:
        how = f"the cap is {cap} mg"
    verb = "exceeds" if exceeds else "does not exceed"
    return WeightCheck(
        range=rng,
        weight_kg=weight,
        mg_per_kg=per_kg,
        computed_mg=computed,
        cap_mg=cap,
        limit_mg=limit,
        capped=capped,
        period_days=_tidy(period),
        dose_mg=dose_mg,
        exceeds=exceeds,
        message=f"{how}: the dose ({dose_mg} mg {basis}) {verb} {limit} mg ({rng.source})",
    )


def route_mismatch(dose: Dose, ranges: Sequence[RangeSpec]) -> tuple[RangeSpec, ...]:
    """The ranges documented for another route than the dose's (none when the dose gives no route)."""
    if dose.route is None:
        return ()
    return tuple(r for r in ranges if r.canonical_route != dose.route)


@dataclass(frozen=True, slots=True)
class DoseWarning:
    """A warning for a clinician: ``code`` is stable (``route-mismatch``, ``weight-limit-exceeded``,
    ``above-all-ranges``, ``not-documented``)."""

    code: str
    message: str
    range_slug: str | None = None


def dose_warnings(classification: Classification) -> tuple[DoseWarning, ...]:
    """Warnings from a classification: a fitting amount on the wrong route, a weight-based limit
    exceeded, a dose above every comparable range, or in none."""
    dose = classification.dose
    out: list[DoseWarning] = []
    for m in classification.matches:
        if not m.route_fits and m.position == "inside":
            out.append(
                DoseWarning(
                    "route-mismatch",
                    f"The amount fits {m.range.source}'s '{m.range.label}' ({m.range.band}), documented for "
                    f"{m.range.canonical_route} use, but the dose is {dose.route}.",
                    m.range.range_slug,
                )
            )
        check = weight_based_check(dose, m.range) if m.route_fits else None
        if check is not None and check.exceeds:
            out.append(DoseWarning("weight-limit-exceeded", check.message, m.range.range_slug))
    if classification.above_all:
        out.append(DoseWarning("above-all-ranges", "The dose lies above every comparable documented range."))
    elif not classification.documented and classification.matches:
        out.append(DoseWarning("not-documented", f"The dose lies in no documented regimen ({classification.verdict})."))
    return tuple(out)
