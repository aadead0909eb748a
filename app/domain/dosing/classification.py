"""Ranges and classification: where a dose lies against each source's range, and the warnings."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Final, Literal

from app.domain.dosing.doses import POPULATIONS, Dose, parse_schedule
from app.domain.dosing.limits import WeightCheck, weight_based_check
from app.domain.dosing.numbers import (
    _CTX,
    PERIOD_DAYS,
    Basis,
    DoseInputError,
    Position,
    _div_display,
    _fmt,
    _mul,
    _tidy,
    _unit,
    parse_route,
)
from app.domain.dosing.patterns import DoseShape, dose_shape, pattern_fits
from app.domain.dosing.rules import dose_phrase, frequency_phrase, is_checked, label_phrase

# --------------------------------------------------------------------------------------------------
# Ranges and classification


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """One source's dose range for one regimen, as the store holds it (see ``DoseRangeRecord``).

    ``min``/``max`` in ``unit`` (either may be ``None``: open) per ``period_value`` ``period_unit``
    (``d``, ``wk``, ``mo``); ``per`` is ``"period"`` (amount per period), ``"administration"`` (amount
    of one administration, given once per period) or ``"administration-only"`` (amount of one
    administration; the source states no frequency, so only single administrations are compared and
    the period is ignored); ``cap`` in ``cap_unit`` (default: the mass part of ``unit``) is an inclusive
    maximum of the same quantity. ``verification`` is the source's status (``primary``, ``secondary``,
    ``article-claim``): only a checked one documents a dose (see :mod:`app.domain.dosing.rules`).
    ``source_title`` names the source in verdicts (the slug when missing); ``is_reference`` and
    ``approval_status`` (of the regimen) let the rules name the labelled dose. ``schedule`` is the
    weekly schedule the source states when its amounts differ by day (``"50 mg weekdays + 100 mg
    Saturday"``): the range then records the weekly total and documents that schedule only.
    ``population`` is its regimen's (``any``, ``adults``, ``children``): a range for one population is not
    compared with a dose for the other, and a child's dose is documented only by a range for children (the
    content records children's dosing apart; a range that states no population comes from adults' studies
    and labels). Invalid data raises ``ValueError``.

    A range documents only the dosing pattern its source states (see :func:`pattern_fits`): an amount
    per day documents a dose given every day (once or several times a day), an amount per longer period
    a dose given once every such period, a schedule that schedule. Another pattern with the same
    average per day is not documented by it.
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
    verification: str | None = None
    source_title: str | None = None
    is_reference: bool = False
    approval_status: str | None = None
    schedule: str | None = None
    population: str = "any"
    # Derived once, with the range (every dose check reads them for every range): not compared, not given.
    period_days: Decimal = field(init=False, repr=False, compare=False)
    """The period's length in days (trailing zeros removed)."""
    weight_based: bool = field(init=False, repr=False, compare=False)
    canonical_route: str = field(init=False, repr=False, compare=False)
    checked: bool = field(init=False, repr=False, compare=False)
    """Whether the range comes from a checked source (primary or secondary) and may document a dose."""
    cited: str = field(init=False, repr=False, compare=False)
    """The source as verdicts name it: its title, else its slug."""
    schedule_dose: Dose | None = field(init=False, repr=False, compare=False)
    """``schedule`` parsed, or ``None``."""
    schedule_by_day: tuple[tuple[int, Decimal], ...] | None = field(init=False, repr=False, compare=False)
    """The stated schedule's administrations as sorted (day, mg) pairs (see :class:`DoseShape`), or ``None``."""
    _hash: int = field(init=False, repr=False, compare=False)

    def __hash__(self) -> int:  # the generated one hashes every field on every call (per range, per check)
        return self._hash

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
        if self.per not in {"period", "administration", "administration-only"}:
            problems.append("per must be 'period', 'administration' or 'administration-only'")
        if self.cap_unit is not None and self.cap is None:
            problems.append("cap_unit without cap")
        if self.population not in RANGE_POPULATIONS:
            problems.append(f"population must be one of {', '.join(RANGE_POPULATIONS)}")
        schedule_dose = None if problems or self.schedule is None else self._parse_schedule(route, problems)
        if problems:
            raise ValueError(f"range {self.range_slug}: " + "; ".join(problems))
        assert route is not None
        derived = {
            "period_days": _tidy(_mul(self.period_value, PERIOD_DAYS[self.period_unit])),
            "weight_based": _unit(self.unit).per_kg,
            "canonical_route": route,
            "checked": is_checked(self.verification),
            "cited": self.source_title or self.source,
            "schedule_dose": schedule_dose,
            "schedule_by_day": None if schedule_dose is None else dose_shape(schedule_dose).by_day,
            "_hash": hash(tuple(getattr(self, f.name) for f in _COMPARED)),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def _parse_schedule(self, route: str | None, problems: list[str]) -> Dose | None:
        """The stated schedule, checked against the range: a week of amounts in mg whose total lies in it."""
        assert self.schedule is not None
        try:
            dose = parse_schedule(self.schedule, route=route)
        except DoseInputError as exc:
            problems.append(f"schedule: {exc.message}")
            return None
        if (
            _unit(self.unit).per_kg
            or self.per != "period"
            or _mul(self.period_value, PERIOD_DAYS[self.period_unit]) != 7
        ):
            problems.append("a schedule belongs to a range of an amount per week")
        elif (
            dose.mg_per_period is None
            or _place(
                dose.mg_per_period,
                None if self.min is None else _mul(self.min, _unit(self.unit).factor),
                None if self.max is None else _mul(self.max, _unit(self.unit).factor),
                self.min_inclusive,
                self.max_inclusive,
            )
            != "inside"
        ):
            problems.append("the schedule's weekly total lies outside the range")
        return dose

    def describe(self) -> str:
        """The range as text, e.g. '1–5 mg per day', 'less than 4 mg per day', '0.1 mg/kg per day (max 4.5 mg)'."""
        return _describe(self)


_COMPARED = tuple(f for f in fields(RangeSpec) if f.compare)
RANGE_POPULATIONS: Final = ("any", *POPULATIONS)


@functools.lru_cache(maxsize=1024)  # the same few dozen ranges, described in every dose check
def _describe(rng: RangeSpec) -> str:
    unit = _unit(rng.unit).code
    lo, hi = rng.min, rng.max
    if lo is not None and hi is not None:
        if lo == hi:
            amount = f"{_tidy(lo)} {unit}"
        elif rng.min_inclusive and rng.max_inclusive:
            amount = f"{_tidy(lo)}–{_tidy(hi)} {unit}"
        else:
            lo_word = "at least" if rng.min_inclusive else "more than"
            hi_word = "at most" if rng.max_inclusive else "less than"
            amount = f"{lo_word} {_tidy(lo)} and {hi_word} {_tidy(hi)} {unit}"
    elif hi is not None:
        amount = f"{'at most' if rng.max_inclusive else 'less than'} {_tidy(hi)} {unit}"
    else:
        assert lo is not None
        amount = f"{'at least' if rng.min_inclusive else 'more than'} {_tidy(lo)} {unit}"
    names = {"d": ("day", "days"), "wk": ("week", "weeks"), "mo": ("month", "months")}[rng.period_unit]
    value = _tidy(rng.period_value)
    period = f"per {names[0]}" if value == 1 else f"per {value} {names[1]}"
    if rng.per == "administration":
        period = "per administration, once " + period.removeprefix("per ")
        period = period.replace("once day", "once a day").replace("once week", "once a week")
        period = period.replace("once month", "once a month")
    if rng.per == "administration-only":
        period = "per administration (frequency not stated by the source)"
    text = f"{amount} {period}"
    if rng.cap is not None:
        text += f" (max {_tidy(rng.cap)} {rng.cap_unit or _unit(rng.unit).mass})"
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
    per_day_lo: Decimal | None  # lo and hi as an average per day, rounded for display
    per_day_hi: Decimal | None


@functools.lru_cache(maxsize=4096)  # per range, and per body weight for the weight-based ones
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
    per_day = rng.per != "administration-only"
    return _Bounds(
        lo,
        hi,
        lo_inc,
        hi_inc,
        rng.period_days,
        capped,
        note,
        None if lo is None or not per_day else _div_display(lo, rng.period_days),
        None if hi is None or not per_day else _div_display(hi, rng.period_days),
    )


def _place(value: Decimal, lo: Decimal | None, hi: Decimal | None, lo_inc: bool, hi_inc: bool) -> Position:
    if lo is not None and (value < lo or (value == lo and not lo_inc)):
        return "below"
    if hi is not None and (value > hi or (value == hi and not hi_inc)):
        return "above"
    return "inside"


def _place_planned_rate(mg: Decimal, plan: MatchPlan, b: _Bounds) -> Position:
    """``mg`` per the dose's period against the bounds per ``b.period_days``, cross-multiplied (exact): the
    bounds times the dose's period come with the plan."""
    return _place(_CTX.multiply(mg, b.period_days), plan.lo_days, plan.hi_days, b.lo_inclusive, b.hi_inclusive)


def _worst(positions: Iterable[Position]) -> Position:
    seen = set(positions)
    if "above" in seen:
        return "above"
    if "below" in seen:
        return "below"
    return "inside"


@dataclass(frozen=True, slots=True, init=False)
class Match:
    """Where a dose lies against one range.

    ``position`` is by amount, whatever the route; it is ``None`` only for a weight-based range and a
    dose without a body weight. ``comparable`` is false when the route does not fit or no position could
    be found: such a match never makes a dose "documented". ``mg_min``/``mg_max`` are the range's bounds
    in mg after weight and cap (per period, or per administration for ``per="administration"``), and
    ``mg_per_day_min``/``mg_per_day_max`` the same as an average per day, rounded for display.

    What does not depend on the amount (the bounds, the basis, the route check) is the ``plan`` shared by
    every dose of the same shape; the position, the note and what follows from them are the dose's own.
    ``pattern_fits``: the dose follows the dosing pattern the source states (see :func:`pattern_fits`);
    when it does not, the match documents nothing, whatever the position.
    """

    range: RangeSpec
    position: Position | None
    note: str
    plan: MatchPlan = field(repr=False)
    pattern_fits: bool = True
    # Derived once (the verdict, the summary and the answer each read them for every match): not given.
    documents: bool = field(init=False, compare=False)
    """The dose lies inside this range, the route fits and the source is checked."""
    claims: bool = field(init=False, compare=False)
    """The dose lies inside this range (route fits), but the source is not checked: a claim only."""

    def __init__(
        self, range: RangeSpec, position: Position | None, note: str, plan: MatchPlan, pattern_fits: bool = True
    ) -> None:
        # Fifteen or so per dose check: each field set through its slot, not object.__setattr__ (half the cost).
        _SET_RANGE(self, range)
        _SET_POSITION(self, position)
        _SET_NOTE(self, note)
        _SET_PLAN(self, plan)
        _SET_PATTERN_FITS(self, pattern_fits)
        inside = self.amount_fits and pattern_fits
        checked = range.checked
        _SET_DOCUMENTS(self, inside and checked and plan.population_stated)
        _SET_CLAIMS(self, inside and not checked)

    @property
    def amount_fits(self) -> bool:
        """The amount lies inside the range, whose route and population fit the dose's and which judges its
        frequency: all it takes to document the dose but the dosing pattern, the source's check and, for a
        child, a range for children."""
        plan = self.plan
        return self.position == "inside" and plan.route_fits and plan.population_fits and plan.judges_frequency

    @property
    def comparable(self) -> bool:
        return self.plan.route_fits and self.plan.population_fits and self.position is not None

    @property
    def population_unstated(self) -> bool:
        """The dose (for children) lies inside this checked range on its route, but the range states no
        population: it does not document a child's dose, on its own schedule or another."""
        return not self.plan.population_stated and self.range.checked and self.amount_fits

    @property
    def population_fits(self) -> bool:
        """The range is not for another population than the dose's (see :class:`RangeSpec`)."""
        return self.plan.population_fits

    @property
    def schedule_differs(self) -> bool:
        """The amount (on average per day) lies inside the range, the route fits, but the dose follows
        another dosing pattern than the one the source states: the schedule is not checked by it."""
        return not self.pattern_fits and self.plan.population_stated and self.amount_fits

    @property
    def route_fits(self) -> bool:
        return self.plan.route_fits

    @property
    def basis(self) -> Basis:
        return self.plan.basis

    @property
    def checked(self) -> bool:
        """The range comes from a checked source (primary or secondary)."""
        return self.range.checked

    @property
    def judges_frequency(self) -> bool:
        """False when the range states no frequency (``per="administration-only"``) and the dose is repeated:
        one administration is compared, the regimen is not, so the match documents nothing."""
        return self.plan.judges_frequency

    @property
    def mg_min(self) -> Decimal | None:
        return None if self.plan.bounds is None else self.plan.bounds.lo

    @property
    def mg_max(self) -> Decimal | None:
        return None if self.plan.bounds is None else self.plan.bounds.hi

    @property
    def mg_per_day_min(self) -> Decimal | None:
        return None if self.plan.bounds is None else self.plan.bounds.per_day_lo

    @property
    def mg_per_day_max(self) -> Decimal | None:
        return None if self.plan.bounds is None else self.plan.bounds.per_day_hi

    @property
    def period_days(self) -> Decimal:
        return self.range.period_days

    @property
    def capped(self) -> bool:
        return self.plan.bounds is not None and self.plan.bounds.capped


_SET_RANGE, _SET_POSITION, _SET_NOTE, _SET_PLAN, _SET_PATTERN_FITS, _SET_DOCUMENTS, _SET_CLAIMS = (
    Match.__dict__[name].__set__
    for name in ("range", "position", "note", "plan", "pattern_fits", "documents", "claims")
)


@functools.lru_cache(maxsize=64)  # one dose, written once per check (not once per range)
def _dose_text(dose: Dose) -> str:
    """The dose in mg as a clinician writes it (equivalent inputs read the same): '380 mg every 4 weeks'."""
    if dose.schedule:
        return dose_phrase(dose)
    return f"{_fmt(dose.mg_per_administration)} mg " + frequency_phrase(
        dose.administrations_per_period, dose.period_days, dose.days_of_week
    )


def match_range(dose: Dose, rng: RangeSpec) -> Match:
    """The position of ``dose`` against one range, with the route and pattern checks and an explanatory note."""
    return _match(dose, rng, _dose_text(dose), dose_shape(dose))


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """A match with one range for every dose of one shape (route, body weight, period, repeated or single):
    all of it but the position, which the amount decides, and the first note, which says it."""

    route_fits: bool
    bounds: _Bounds | None
    basis: Basis
    rule: Literal["none", "administration-only", "single", "both", "rate"]
    describe: str
    tail: str
    """The notes after the first, each with its "; " before it."""
    judges_frequency: bool
    population_fits: bool = True
    """The range is for the dose's population, or for any, or the dose's population is not given."""
    population_stated: bool = True
    """The range may document a dose for this population: false for a child's dose and a range that states
    no population (see :class:`RangeSpec`)."""
    lo_days: Decimal | None = None
    hi_days: Decimal | None = None
    """The bounds times the dose's period in days: what :func:`_place_planned_rate` compares with."""


@functools.lru_cache(maxsize=4096)  # per range and dose shape: a few per range in practice
def _plan(
    rng: RangeSpec,
    route: str | None,
    weight: Decimal | None,
    days: Decimal | None,
    periodic: bool,
    single: bool,
    population: str | None = None,
) -> MatchPlan:
    range_route = rng.canonical_route
    route_fits = route is None or route == range_route
    population_fits = population is None or rng.population in ("any", population)
    population_stated = population != "children" or rng.population == "children"
    bounds = _bounds(rng, weight)
    notes: list[str] = []
    rule: Literal["none", "administration-only", "single", "both", "rate"]
    if bounds is None:
        notes.append(f"the range is in {_unit(rng.unit).code}: it needs a body weight")
        basis: Basis = "average-per-day"
        rule = "none"
    else:
        if rng.per == "administration-only":
            basis, rule = "per-administration", "administration-only"
            notes.append("the source states no frequency: only the amount of one administration is compared")
        elif not periodic:
            basis, rule = "per-administration", "single"
            if rng.per == "period":
                notes.append(
                    "a single administration is compared with the amount of one period, taken as one administration"
                )
        elif rng.per == "administration":
            basis, rule = "both", "both"
        else:
            basis, rule = "average-per-day", "rate"
        if bounds.weight_note:
            notes.append(bounds.weight_note)
    if not route_fits:
        notes.append(f"route does not fit: the range is for {range_route} use, the dose is {route}")
    elif route is None:
        notes.append(f"no route given: the range is for {range_route} use")
    if not population_fits:
        notes.append(f"population does not fit: the range is for {rng.population}, the dose for {population}")
    elif not population_stated:
        notes.append("the range states no population: it does not document a dose for children")
    return MatchPlan(
        route_fits=route_fits,
        bounds=bounds,
        basis=basis,
        rule=rule,
        describe=rng.describe(),
        tail="".join(f"; {n}" for n in notes),
        judges_frequency=rng.per != "administration-only" or single,
        population_fits=population_fits,
        population_stated=population_stated,
        lo_days=None if bounds is None or bounds.lo is None or days is None else _mul(bounds.lo, days),
        hi_days=None if bounds is None or bounds.hi is None or days is None else _mul(bounds.hi, days),
    )


def _position(dose: Dose, plan: MatchPlan) -> Position | None:
    """Where the dose's amount lies against the planned bounds, exactly."""
    b = plan.bounds
    if b is None:
        return None
    rule = plan.rule
    if rule == "rate":
        assert dose.mg_per_period is not None
        return _place_planned_rate(dose.mg_per_period, plan, b)
    if rule == "single":
        return _place(dose.mg_per_administration, b.lo, b.hi, b.lo_inclusive, b.hi_inclusive)
    positions = [
        _place(dose.mg_per_administration_min, b.lo, None, b.lo_inclusive, True),
        _place(dose.mg_per_administration, None, b.hi, True, b.hi_inclusive),
    ]
    if rule == "both":
        assert dose.mg_per_period is not None
        positions.append(_place_planned_rate(dose.mg_per_period, plan, b))
    return _worst(positions)


def _match(dose: Dose, rng: RangeSpec, dose_text: str, shape: DoseShape) -> Match:
    periodic = dose.period_days is not None and dose.mg_per_period is not None
    plan = _plan(rng, dose.route, dose.weight_kg, dose.period_days, periodic, dose.single, dose.population)
    return _planned_match(dose, rng, plan, dose_text, shape)


def _planned_match(dose: Dose, rng: RangeSpec, plan: MatchPlan, dose_text: str, shape: DoseShape) -> Match:
    position = _position(dose, plan)
    note = plan.tail[2:] if plan.bounds is None else f"{dose_text} is {position} {plan.describe}{plan.tail}"
    fits = pattern_fits(dose, shape, rng)
    if not fits and position == "inside":
        note += f"; the source states {label_phrase(rng)}, another schedule: this one is not checked by it"
    return Match(rng, position, note, plan, fits)


@functools.lru_cache(maxsize=256)  # per set of ranges (one per content version) and dose shape
def _plans(
    ranges: tuple[RangeSpec, ...],
    route: str | None,
    weight_kg: Decimal | None,
    period_days: Decimal | None,
    periodic: bool,
    single: bool,
    population: str | None,
) -> tuple[MatchPlan, ...]:
    """The plan of every range for one dose shape, in order: one lookup a check instead of one a range."""
    return tuple(_plan(rng, route, weight_kg, period_days, periodic, single, population) for rng in ranges)


@dataclass(frozen=True, slots=True)
class Classification:
    """A dose against every given range: one match per range, in input order, and the verdict.

    Only checked ranges (primary or secondary, see :mod:`app.domain.dosing.rules`) decide:
    ``documented``: inside at least one comparable checked range. ``above_all``/``below_all``: there is
    at least one comparable checked range, and the dose is above (below) every one. ``regimens`` and
    ``bands``: those with a comparable checked range the dose lies inside, in input order, without
    repeats. ``claimed_only_by``: the comparable unchecked ranges (article claims) the dose lies inside;
    they are reported, attributed, and never document the dose or put it in a regimen.
    ``schedule_differs``: the checked ranges whose amount the dose matches on average but whose dosing
    pattern it does not follow (see :func:`pattern_fits`), when nothing documents the dose.
    ``limits_exceeded``: the weight-based limits of checked ranges (route fits) that the dose exceeds for
    the body weight given; ``limits_unchecked``: those whose source states no frequency, that one
    administration keeps to while the day's administrations add up to more; in either case the dose is
    not documented, whatever range its amount lies in, and ``regimens`` and ``bands`` are empty.
    ``population_unstated``: for a child's dose that nothing documents, the checked ranges that would but
    state no population (see :class:`RangeSpec`).
    """

    dose: Dose
    matches: tuple[Match, ...]
    documented: bool
    above_all: bool
    below_all: bool
    regimens: tuple[str, ...]
    bands: tuple[str, ...]
    verdict: str
    claimed_only_by: tuple[Match, ...] = ()
    schedule_differs: tuple[Match, ...] = ()
    limits_exceeded: tuple[WeightCheck, ...] = ()
    limits_unchecked: tuple[WeightCheck, ...] = ()
    population_unstated: tuple[Match, ...] = ()

    @property
    def limited(self) -> bool:
        """A weight-based limit is exceeded, or the dose's daily total is not covered by one."""
        return bool(self.limits_exceeded or self.limits_unchecked)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ordered(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _verdict(
    dose: Dose,
    matches: Sequence[Match],
    documented: bool,
    above_all: bool,
    below_all: bool,
    limits: Sequence[WeightCheck] = (),
) -> str:
    if not matches:
        return "no documented range to compare with"
    if limits:
        return "; ".join(
            [
                *(
                    f"exceeds the weight-based limit of {w.range.cited} for {_tidy(w.weight_kg)} kg "
                    f"({w.limit_mg} mg): not documented for this body weight"
                    if w.exceeds
                    else f"the day's administrations add up to more than the weight-based limit of {w.range.cited} "
                    f"for {_tidy(w.weight_kg)} kg ({w.limit_mg} mg), which states no frequency: not documented "
                    "for this body weight"
                    for w in limits
                ),
                _verdict(dose, matches, any(m.documents for m in matches), above_all, below_all),
            ]
        )
    checked = [m for m in matches if m.comparable and m.checked]
    documented_regimens = {m.range.regimen for m in matches if m.documents}
    parts: list[str] = []
    for regimen in _ordered(m.range.regimen for m in checked if m.documents):
        of_regimen = [m for m in checked if m.range.regimen == regimen]
        sources = _ordered(m.range.cited for m in of_regimen if m.documents)
        band = of_regimen[0].range.band
        parts.append(f"inside the {band} range of {_plural(len(sources), 'checked source')} ({'; '.join(sources)})")
        parts.extend(f"{m.position} {m.range.cited}: '{m.range.label}'" for m in of_regimen if not m.documents)
    for m in checked:
        if not m.judges_frequency and m.position == "inside" and m.range.regimen not in documented_regimens:
            parts.append(
                f"one administration fits {m.range.cited}: '{m.range.label}', which states no frequency, "
                "so the repeated dose is not documented by it"
            )
    if not documented:
        for m in checked:
            if m.population_unstated:
                parts.append(
                    f"the amount fits {m.range.cited}: '{m.range.label}', which states no population: it does not "
                    "document a dose for children"
                )
            if m.schedule_differs:
                parts.append(
                    f"the amount per day fits {m.range.cited}: '{m.range.label}', but that source states "
                    f"{label_phrase(m.range)}, another schedule: this schedule is not checked by it"
                )
        if not checked and dose.route is not None and all(not m.route_fits for m in matches):
            parts.append(f"lies in no documented regimen: no range is documented for {dose.route} use")
        elif not checked:
            parts.append("lies in no documented regimen: no checked range is comparable")
        elif above_all:
            parts.append("lies in no documented regimen: above every checked range")
        elif below_all:
            parts.append("lies in no documented regimen: below every checked range")
        else:
            above: list[str] = []
            below: list[str] = []
            for regimen in _ordered(m.range.regimen for m in checked):
                ms = [m for m in checked if m.range.regimen == regimen]
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
    for m in matches:
        if m.claims:
            parts.append(
                f"only claimed, not checked: “{m.range.cited}” states '{m.range.label}' "
                f"({m.range.verification or 'unverified'}; it documents nothing)"
            )
        elif m.comparable and not m.checked and m.range.regimen in documented_regimens:
            parts.append(f"{m.position} {m.range.cited}: '{m.range.label}' (unchecked claim)")
    wrong_route = [m for m in matches if not m.route_fits and m.position == "inside"]
    for regimen in _ordered(m.range.regimen for m in wrong_route):
        ms = [m for m in wrong_route if m.range.regimen == regimen]
        named = "; ".join(_ordered(m.range.cited + ("" if m.checked else " (unchecked claim)") for m in ms))
        parts.append(
            f"the amount fits the {ms[0].range.band} range ({named}), but that range is for "
            f"{ms[0].range.canonical_route} use and the dose is {dose.route}"
        )
    no_weight = _ordered(m.range.band for m in matches if m.position is None)
    if no_weight:
        parts.append(f"give a body weight to compare with the {', '.join(no_weight)} range")
    return "; ".join(parts)


_VERDICTS: dict[tuple[object, ...], str] = {}
_VERDICTS_KEPT = 1024  # each about a kilobyte of key; doses of one shape fall in a few dozen


def _verdict_of(
    dose: Dose,
    matches: Sequence[Match],
    documented: bool,
    above_all: bool,
    below_all: bool,
    limits: Sequence[WeightCheck],
) -> str:
    """:func:`_verdict`, remembered: it reads only the dose's route, the weight limits exceeded and, per
    match, the range, the position, whether the route fits, whether it judges the frequency and whether the
    pattern fits (documented, above and below all follow from those), and doses of new amounts mostly fall
    where others fell."""
    key = (
        dose.route,
        tuple((w.range, w.weight_kg, w.limit_mg, w.exceeds) for w in limits),
        *(
            (
                m.range,
                m.position,
                m.plan.route_fits,
                m.plan.judges_frequency,
                m.pattern_fits,
                m.plan.population_fits,
                m.plan.population_stated,
            )
            for m in matches
        ),
    )
    verdict = _VERDICTS.get(key)
    if verdict is None:
        verdict = _verdict(dose, matches, documented, above_all, below_all, limits)
        if len(_VERDICTS) >= _VERDICTS_KEPT:
            _VERDICTS.clear()
        _VERDICTS[key] = verdict
    return verdict


def classify(dose: Dose, ranges: Sequence[RangeSpec]) -> Classification:
    """Place ``dose`` against every range (one :class:`Match` each, in input order) and sum it up."""
    dose_text = _dose_text(dose)
    shape = dose_shape(dose)
    periodic = dose.period_days is not None and dose.mg_per_period is not None
    plans = _plans(tuple(ranges), dose.route, dose.weight_kg, dose.period_days, periodic, dose.single, dose.population)
    matches = tuple(_planned_match(dose, rng, plan, dose_text, shape) for rng, plan in zip(ranges, plans, strict=True))
    checked = [m for m in matches if m.comparable and m.checked]
    weights = _weight_checks(dose, checked)
    limits = tuple(w for w in weights if w.exceeds)
    unchecked = tuple(w for w in weights if w.daily_unchecked)
    inside = [m for m in matches if m.documents] if not (limits or unchecked) else []
    documented = bool(inside)
    above_all = bool(checked) and all(m.position == "above" for m in checked)
    below_all = bool(checked) and all(m.position == "below" for m in checked)
    return Classification(
        dose=dose,
        matches=matches,
        documented=documented,
        above_all=above_all,
        below_all=below_all,
        regimens=_ordered(m.range.regimen for m in inside),
        bands=_ordered(m.range.band for m in inside),
        verdict=_verdict_of(dose, matches, documented, above_all, below_all, (*limits, *unchecked)),
        claimed_only_by=tuple(m for m in matches if m.claims),
        schedule_differs=() if any(m.documents for m in matches) else tuple(m for m in checked if m.schedule_differs),
        limits_exceeded=limits,
        limits_unchecked=unchecked,
        population_unstated=()
        if any(m.documents for m in matches)
        else tuple(m for m in matches if m.population_unstated),
    )


def _weight_checks(dose: Dose, checked: Sequence[Match]) -> tuple[WeightCheck, ...]:
    """The weight-based limits of the checked, comparable ranges, for the body weight given."""
    if dose.weight_kg is None:
        return ()
    found = (weight_based_check(dose, m.range) for m in checked if m.range.weight_based)
    return tuple(w for w in found if w is not None)
