"""Dosing patterns: how a repeated dose is spread over time, and whether it follows a range's stated one.

A range documents only the dosing pattern its source states (see :func:`pattern_fits`): 31.5 mg weekly is
not 4.5 mg daily, although their averages per day are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.dosing.doses import Dose

if TYPE_CHECKING:
    from app.domain.dosing.classification import RangeSpec


@dataclass(frozen=True, slots=True)
class DoseShape:
    """How a repeated dose is spread over time, as the patterns of ranges are compared.

    ``times_a_day``: administrations each day when the dose is the same every day (daily, twice daily,
    every day of the week alike), else ``None``. ``by_day``: for a dose given on days of the week, its
    administrations as sorted (day, mg) pairs (0 = Monday), else ``None``.
    """

    times_a_day: int | None
    by_day: tuple[tuple[int, Decimal], ...] | None


def dose_shape(dose: Dose) -> DoseShape:
    """The :class:`DoseShape` of ``dose`` (a single administration has neither)."""
    by_day: tuple[tuple[int, Decimal], ...] | None = None
    if dose.schedule:
        by_day = tuple(sorted((d, e.mg) for e in dose.schedule for d in e.days))
    elif dose.days_of_week and dose.period_days == 7:
        each, odd = divmod(dose.administrations_per_period, len(dose.days_of_week))
        if not odd:
            by_day = tuple((d, dose.mg_per_administration) for d in dose.days_of_week for _ in range(each))
    times: int | None = None
    if dose.period_days == 1 and not dose.schedule:
        times = dose.administrations_per_period
    elif by_day is not None and len({d for d, _ in by_day}) == 7:
        days = [tuple(mg for d, mg in by_day if d == day) for day in range(7)]
        times = len(days[0]) if all(day == days[0] for day in days) else None
    return DoseShape(times, by_day)


def pattern_fits(dose: Dose, shape: DoseShape, rng: RangeSpec) -> bool:
    """Whether the dose follows the dosing pattern the range's source states (the amount aside).

    A single administration, and a range that states no frequency, compare one administration: any
    pattern fits. A stated weekly schedule fits the same administrations on the same days. An amount per
    day fits a dose given every day alike, once or several times a day (its amount per day is compared);
    one administration once a day fits a dose given once every day. An amount per longer period fits a
    dose given once every such period. Nothing else: 31.5 mg weekly is not 4.5 mg daily, 190 mg every 2
    weeks is not 380 mg every 4 weeks, although their averages per day are the same.
    """
    if rng.schedule_by_day is not None:  # one administration of a weekly total is no administration of it
        return dose.period_days is not None and shape.by_day == rng.schedule_by_day
    if dose.period_days is None or rng.per == "administration-only":
        return True
    if rng.period_days == 1:
        return shape.times_a_day is not None and (rng.per == "period" or shape.times_a_day == 1)
    return dose.administrations_per_period == 1 and dose.period_days == rng.period_days and not dose.schedule
