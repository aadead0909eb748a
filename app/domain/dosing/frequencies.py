"""Frequencies and days of the week: ``daily``, ``BID``, ``every 4 weeks``, ``mon-fri``, ..."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from app.domain.dosing.numbers import _MAX_ADMINISTRATIONS_PER_DAY, DoseInputError, _div_display

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
_NUM = r"([0-9]{1,4})(?:st|nd|rd|th)?|" + "|".join(_WORD_NUMBERS)
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


_DECIMAL_RE: Final = re.compile(r"[0-9]\s*[.,]\s*[0-9]|(?<![0-9a-z])[.,][0-9]", re.IGNORECASE)
"""A decimal number ("0.5", "4.0", "1,5", ".5"): never read with its separator dropped (0.5 as 5)."""
_NEGATIVE_RE: Final = re.compile(r"(?<![0-9])[-\u2212\u2013\u2014]\s*[0-9]")
"""A minus sign before a number ("every -4 weeks", "q-4h"): never read as the positive number. A hyphen
between words (``mon-fri``) is not one."""


def _number(text: str) -> int:
    digits = re.match(r"[0-9]+", text)
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


@functools.lru_cache(maxsize=512)  # a few spellings ("daily", "BID") in most checks; values are immutable
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
    if _DECIMAL_RE.search(frequency):
        raise DoseInputError(
            "frequency", f"{frequency!r} has a decimal number: give whole hours, days, weeks or administrations"
        )
    if _NEGATIVE_RE.search(frequency):
        raise DoseInputError("frequency", f"{frequency!r} has a negative number")
    norm = frequency.strip().lower().replace(".", "")  # dotted abbreviations: b.i.d., q.d.
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
