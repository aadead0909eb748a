"""Weight-based limits: a weight-based range's limit for a body weight, and whether a dose keeps to it.

The only weight-based range in the content is a children's trial that states no frequency: one
administration is compared with its limit, and a day whose administrations add up to more than it is
said not to be checked by it (:attr:`WeightCheck.daily_unchecked`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.dosing.doses import Dose
from app.domain.dosing.numbers import _CTX, _display, _div_display, _mul, _tidy, _unit
from app.domain.dosing.patterns import dose_shape

if TYPE_CHECKING:
    from app.domain.dosing.classification import RangeSpec


def _most_in_one_day(dose: Dose) -> tuple[Decimal, int] | None:
    """The most mg given in one day and in how many administrations, when some day has more than one."""
    if dose.period_days is None or dose.mg_per_period is None:
        return None
    by_day = dose_shape(dose).by_day
    if by_day is not None:
        days: dict[int, list[Decimal]] = {}
        for day, mg in by_day:
            days.setdefault(day, []).append(mg)
        busiest = max(days.values(), key=lambda amounts: (sum(amounts), len(amounts)))
        return (sum(busiest, Decimal(0)), len(busiest)) if len(busiest) > 1 else None
    per_day = _CTX.divide(Decimal(dose.administrations_per_period), dose.period_days)
    if per_day <= 1:
        return None
    times = int(per_day.to_integral_value(rounding="ROUND_CEILING"))
    return _tidy(_mul(dose.mg_per_administration, Decimal(times))), times


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
    daily_unchecked: bool = False
    """The source states no frequency; one administration keeps to the limit, but the administrations of
    one day add up to more than it: that day's total is not checked by the source."""


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
    if dose.period_days is None or dose.mg_per_period is None or rng.per in {"administration", "administration-only"}:
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
    whose = ""
    if rng.population != "any" and dose.population is None:
        other = "an adult" if rng.population == "children" else "a child"
        whose = (
            f". This is a limit for {rng.population}: if the patient is {other}, give the population "
            f'("{"adults" if rng.population == "children" else "children"}") and it does not apply'
        )
    check = WeightCheck(
        range=rng,
        weight_kg=weight,
        mg_per_kg=per_kg,
        computed_mg=computed,
        cap_mg=cap,
        limit_mg=limit,
        capped=capped,
        period_days=period,
        dose_mg=dose_mg,
        exceeds=exceeds,
        message=f"{how}: the dose ({dose_mg} mg {basis}) {verb} {limit} mg ({rng.cited})"
        + ("; the source states no frequency" if rng.per == "administration-only" else "")
        + (whose if exceeds else ""),
    )
    busiest = _most_in_one_day(dose) if rng.per == "administration-only" and not exceeds else None
    if busiest is None or busiest[0] < limit or (busiest[0] == limit and inclusive):
        return check
    return replace(
        check,
        daily_unchecked=True,
        message=f"{how}: one administration ({dose_mg} mg) keeps to {limit} mg ({rng.cited}), but "
        f"{busiest[1]} administrations in one day give {_display(busiest[0])} mg; the source states no "
        "frequency, so a day's total above one administration's limit is not checked by it" + whose,
    )
