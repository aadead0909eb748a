"""Doses: one amount at a frequency, or a weekly schedule, normalised to exact milligrams."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from app.domain.dosing.frequencies import _days_text, parse_days, parse_frequency
from app.domain.dosing.numbers import (
    _CTX,
    _MAX_ADMINISTRATIONS_PER_DAY,
    MAX_MG_PER_ADMINISTRATION,
    MAX_MG_PER_DAY,
    MIN_MG_PER_ADMINISTRATION,
    AmountLike,
    DoseInputError,
    _div_display,
    _mul,
    _tidy,
    _Unit,
    _unit,
    parse_amount,
    parse_route,
    parse_weight,
)

# --------------------------------------------------------------------------------------------------
# Doses

POPULATIONS: Final = ("adults", "children")
"""Who a dose is for, when the caller says: a range for another population never documents it."""


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
    population: str | None = None
    """``adults`` or ``children`` when the caller says (see :data:`POPULATIONS`), else ``None``: unknown."""

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


def concurrent_schedule(doses: Sequence[Dose]) -> str:
    """Doses taken at the same time (FHIR dosage lines that share a ``sequence``) as one weekly schedule, in
    the grammar of :func:`parse_schedule` (``"4.5 mg daily + 50 mg daily"``), so that their total is what is
    assessed. Each dose must repeat every day or on days of the week; raises :class:`DoseInputError` (field
    ``frequency``) for one that does not (a single administration, every other day, every 4 weeks: their
    sum has no weekly pattern), and (field ``route``) when the doses give different routes."""
    if len({d.route for d in doses if d.route is not None}) > 1:
        raise DoseInputError("route", "the doses taken together give different routes")
    parts: list[str] = []
    for dose in doses:
        amount = f"{_tidy(dose.mg_per_administration):f} mg"
        if dose.schedule:
            parts.extend(f"{_tidy(e.mg):f} mg {_days_text(e.days)}" for e in dose.schedule)
        elif dose.period_days == 1:
            parts.extend([f"{amount} daily"] * dose.administrations_per_period)
        elif (
            dose.days_of_week and dose.period_days == 7 and not dose.administrations_per_period % len(dose.days_of_week)
        ):
            each = dose.administrations_per_period // len(dose.days_of_week)
            parts.extend([f"{amount} {_days_text(dose.days_of_week)}"] * each)
        else:
            raise DoseInputError(
                "frequency", f"{dose.frequency_description} cannot be added to the others on one weekly schedule"
            )
    return " + ".join(parts)


ScheduleItem = tuple[AmountLike, str, str | Sequence[int]]
_SCHEDULE_AMOUNT_RE: Final = re.compile(
    r"(?P<amount>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[a-zµμ]+(?:\s*/\s*kg)?)", re.I
)


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
            try:
                day_numbers = parse_days(days)
            except DoseInputError as exc:
                raise DoseInputError(
                    "frequency",
                    f"{exc.message}: a schedule gives the days of the week of each amount, as in '50 mg weekdays + "
                    "100 mg Saturday'; a dose at one interval (every other day, twice daily) is an amount, a unit "
                    "and a frequency",
                ) from None
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
