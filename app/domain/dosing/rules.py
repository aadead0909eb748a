"""The clinical decision rules, in one place: how sources rank, what a dose check concludes, how it reads.

Pure functions over the domain's values (no I/O, no web or database imports).

Ranking of sources
    A range *documents* a dose only when its ``verification`` is ``primary`` or ``secondary`` (a checked
    source, see the reference facts' status column) and the dose lies inside it on a route that fits.
    A range whose verification is ``article-claim`` (or missing) never documents, approves or reassures:
    a dose inside it is reported as *claimed only by* that source, beside the checked ranges, and the
    regimen's approval status never extends to it.
Indicator (CDS Hooks card, and the dose-check answer)
    ``critical``: an opioid is present together with naltrexone (the label's contraindication).
    ``warning``: the dose could not be assessed; or it lies in no checked range (above every checked
    range, covered only by an article claim, or in no documented regimen); or it follows a dosing
    pattern no checked source states (a range documents only its source's pattern: 31.5 mg weekly is
    not 4.5 mg daily); or it exceeds a checked weight-based limit for the body weight given.
    ``info``: otherwise (the dose lies inside at least one checked range whose route fits).
Wording
    :func:`dose_phrase` writes a dose as a clinician writes it ("380 mg every 4 weeks", "4.5 mg daily",
    "1 mg twice daily"), never as an average per day. :func:`clinician_summary` writes one plain
    sentence under 140 characters that leads with the decision.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from app.domain.dosing.numbers import _CTX, _display, _mul, _tidy

if TYPE_CHECKING:
    from app.domain.dosing.classification import Classification, Match, RangeSpec
    from app.domain.dosing.doses import Dose

__all__ = [
    "CHECKED_VERIFICATIONS",
    "SUMMARY_MAX_CHARS",
    "Indicator",
    "cds_indicator",
    "clinician_summary",
    "documenting_routes",
    "dose_phrase",
    "frequency_phrase",
    "is_checked",
    "label_phrase",
    "label_reference",
]

Indicator = Literal["critical", "warning", "info"]

CHECKED_VERIFICATIONS: Final = frozenset({"primary", "secondary"})
"""Verification statuses of a checked source (the reference facts' primary and secondary)."""

SUMMARY_MAX_CHARS: Final = 139
"""A clinician summary is shorter than 140 characters (the CDS Hooks card summary limit)."""


def is_checked(verification: str | None) -> bool:
    """Whether a range with this verification may document a dose (primary or secondary only)."""
    return verification in CHECKED_VERIFICATIONS


def cds_indicator(
    *,
    opioid_conflict: bool,
    assessable: bool,
    documented: bool,
    above_all_checked: bool = False,
    claimed_only: bool = False,
    limit_exceeded: bool = False,
) -> Indicator:
    """The indicator of a decision: ``critical`` > ``warning`` > ``info``.

    ``opioid_conflict``: an opioid and naltrexone together (drafted, selected or active).
    ``assessable``: the dose could be read and compared. ``documented``: inside a checked range whose
    route fits. ``above_all_checked``, ``claimed_only`` and ``limit_exceeded`` (a weight-based limit, for
    the body weight given) are warnings in their own right, whatever ``documented`` says (they cannot both hold with a documented dose when computed by
    :func:`app.domain.dosing.classify`, but the rule does not rely on it).
    """
    if opioid_conflict:
        return "critical"
    if not assessable or not documented or above_all_checked or claimed_only or limit_exceeded:
        return "warning"
    return "info"


# --------------------------------------------------------------------------------------------------
# Wording

_WORDS: Final = {2: "twice", 3: "three times", 4: "four times"}
_ROUTE_ABBREVIATIONS: Final = {
    "oral": "",
    "intramuscular": "IM",
    "subcutaneous": "SC",
    "intravenous": "IV",
    "sublingual": "SL",
    "topical": "topical",
    "transdermal": "transdermal",
    "injection": "by injection",
}
_UNIT_TEXT: Final = {"mg": "mg", "ug": "µg", "ng": "ng", "g": "g", "mg/kg": "mg/kg", "ug/kg": "µg/kg"}
_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _number(value: Decimal) -> str:
    """A plain decimal, rounded for display, never in exponent form (0.0001, not 1E-4)."""
    return format(_display(value), "f")


def _every(days: Decimal) -> str:
    if days % 7 == 0:
        weeks = int(days / 7)
        return "weekly" if weeks == 1 else f"every {weeks} weeks"
    whole = int(days) if days == days.to_integral_value() else None
    if whole == 1:
        return "daily"
    if whole == 2:
        return "every other day"
    return f"every {_number(days)} days"


def _days_text(days: Sequence[int]) -> str:
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "daily"
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_DAY_NAMES[ordered[0]]}–{_DAY_NAMES[ordered[-1]]}"
    return ", ".join(_DAY_NAMES[d] for d in ordered)


def frequency_phrase(administrations: int, period_days: Decimal | None, days_of_week: Sequence[int] = ()) -> str:
    """``daily``, ``twice daily``, ``every other day``, ``every 4 weeks``, ``3 times a week``, ``once``."""
    if period_days is None:
        return "once"
    if days_of_week and period_days == 7:
        return "daily" if len(days_of_week) == 7 else _days_text(days_of_week)
    if administrations == 1:
        return _every(period_days)
    times = _WORDS.get(administrations, f"{administrations} times")
    if period_days == 1:
        return f"{times} daily"
    if period_days == 7:
        return f"{times} a week"
    return f"{times} {_every(period_days)}"


def _amount_text(dose: Dose) -> str:
    unit = _UNIT_TEXT.get(dose.unit, dose.unit)
    text = f"{_number(dose.amount)} {unit}"
    if dose.weight_based:
        text += f" ({_number(dose.mg_per_administration)} mg)"
    return text


def dose_phrase(dose: Dose) -> str:
    """The dose as a clinician writes it: ``380 mg every 4 weeks``, ``4.5 mg daily``, ``50 mg once``.

    A weekly schedule reads as its lines (``50 mg Mon–Fri + 100 mg Sat``); a weight-based dose gives the
    amount in mg too (``0.1 mg/kg (3 mg) daily``). Never an average per day.
    """
    if dose.schedule:
        return " + ".join(
            f"{_number(e.amount)} {_UNIT_TEXT.get(e.unit, e.unit)} {_days_text(e.days)}" for e in dose.schedule
        )
    return (
        f"{_amount_text(dose)} {frequency_phrase(dose.administrations_per_period, dose.period_days, dose.days_of_week)}"
    )


def _route_text(dose: Dose) -> str:
    if dose.route is None:
        return ""
    return _ROUTE_ABBREVIATIONS.get(dose.route, dose.route)


def _with_route(dose: Dose) -> str:
    """``Naltrexone 380 mg IM every 4 weeks``: the route after the amount, oral left implicit."""
    route = _route_text(dose)
    if dose.schedule or not route:
        return f"Naltrexone {dose_phrase(dose)}"
    freq = frequency_phrase(dose.administrations_per_period, dose.period_days, dose.days_of_week)
    return f"Naltrexone {_amount_text(dose)} {route} {freq}"


@functools.lru_cache(maxsize=1024)  # the few labelled ranges, phrased in many summaries
def label_phrase(rng: RangeSpec) -> str:
    """A single-figure range as a clinician writes it: ``50 mg daily``, ``380 mg every 4 weeks``; a stated
    schedule as its lines (``50 mg Mon–Fri + 100 mg Sat``)."""
    if rng.schedule_dose is not None:
        return dose_phrase(rng.schedule_dose)
    unit = _UNIT_TEXT.get(rng.unit, rng.unit)
    lo, hi = rng.min, rng.max
    if lo is not None and hi is not None and lo != hi:
        amount = f"{_number(lo)}–{_number(hi)} {unit}"
    else:
        value = hi if hi is not None else lo
        assert value is not None
        amount = f"{_number(value)} {unit}"
    if rng.per == "administration-only":
        return amount
    return f"{amount} {_every(rng.period_days)}"


def _ratio(classification: Classification, rng: RangeSpec) -> tuple[Decimal, str] | None:
    """How many times the range's single figure the dose is, on the average-per-day basis, and how to say it:
    ``"×"`` for a dose on the range's own dosing pattern (150 mg daily is 3× 50 mg daily), ``"× as often
    as"`` for the range's own amount given at another interval (380 mg every 2 weeks), else ``None``: 100 mg
    every other day is no multiple of 380 mg every 4 weeks."""
    dose = classification.dose
    if (
        dose.mg_per_period is None
        or dose.period_days is None
        or rng.min is None
        or rng.max is None
        or rng.min != rng.max
        or rng.weight_based
        or rng.per == "administration-only"
        or rng.unit not in {"mg", "ug", "g", "ng"}
    ):
        return None
    figure = (
        rng.max * {"mg": Decimal(1), "ug": Decimal("0.001"), "g": Decimal(1000), "ng": Decimal("0.000001")}[rng.unit]
    )
    if figure == 0:
        return None
    if any(m.pattern_fits for m in classification.matches if m.range is rng):
        how = "×"
    elif (
        dose.administrations_per_period == 1
        and not dose.schedule
        and rng.schedule is None
        and (rng.per == "administration" or rng.period_days > 1)
        and dose.mg_per_administration == figure
    ):
        how = "× as often as"
    else:
        return None
    # (dose mg / dose days) / (figure / range days), exact then rounded for display
    value = _CTX.divide(_mul(dose.mg_per_period, rng.period_days), _mul(figure, dose.period_days))
    return _tidy(value.quantize(Decimal("0.1"), context=_CTX)), how


_LN_2: Final = _CTX.ln(Decimal(2))


@functools.lru_cache(maxsize=256)  # a few dosing intervals against a few labelled periods
def _interval_distance(interval: Decimal, period_days: Decimal) -> Decimal:
    """How far apart two dosing intervals are: |ln(a / b)| (a logarithm at full precision is costly)."""
    return abs(_CTX.ln(_CTX.divide(interval, period_days)))


def label_reference(classification: Classification) -> RangeSpec | None:
    """The labelled dose to compare with: the reference range of an approved regimen, checked, on the
    dose's route. Without a route, the one whose dosing interval is nearest the dose's (a daily or
    weekday dose is compared with the daily tablet, not the monthly injection), and none when no
    labelled dose lies within a factor of two of the dose's interval."""
    candidates = [
        m.range
        for m in classification.matches
        if m.range.is_reference and m.range.approval_status == "approved" and m.route_fits and m.range.checked
    ]
    if not candidates:
        return None
    dose = classification.dose
    if dose.period_days is None:
        return candidates[0]
    interval = _CTX.divide(dose.period_days, Decimal(dose.administrations_per_period))

    def distance(rng: RangeSpec) -> Decimal:
        return _interval_distance(interval, rng.period_days)

    nearest = min(candidates, key=distance)
    if dose.route is None and len(candidates) > 1 and distance(nearest) > _LN_2:
        return None  # no route and no product near the dose's interval: which label would be guesswork
    return nearest


def _fit(text: str) -> str:
    if len(text) <= SUMMARY_MAX_CHARS:
        return text
    return text[: SUMMARY_MAX_CHARS - 1].rstrip(" ,;:") + "…"


def documenting_routes(documenting: Sequence[Match]) -> str:
    """``intramuscular`` or ``oral and intramuscular``: the routes of the ranges that document a dose."""
    routes = list(dict.fromkeys(m.range.canonical_route for m in documenting))
    return " and ".join(routes)


def _route_caveat(dose: Dose, documenting: Sequence[Match]) -> str:
    """`` (route not given: documented for oral use)`` for a dose without a route, else nothing: the route
    was not checked, and the summary never leaves that to a match's note."""
    if dose.route is not None:
        return ""
    return f" (route not given: documented for {documenting_routes(documenting)} use)"


def clinician_summary(classification: Classification) -> str:
    """One plain sentence under 140 characters: the dose and the decision, leading with what matters.

    Examples: ``Naltrexone 150 mg daily is 3× the label's 50 mg daily``; ``Naltrexone 380 mg IM every 4
    weeks: labelled dose``; ``Naltrexone 4.5 mg daily: low-dose (off-label)``.
    """
    dose = classification.dose
    head = _with_route(dose)
    if classification.limits_exceeded:
        limit = classification.limits_exceeded[0]
        whose = "the children's" if limit.range.population == "children" else "the"
        return _fit(
            f"{head}: exceeds {whose} weight-based limit ({_number(limit.limit_mg)} mg for "
            f"{_number(limit.weight_kg)} kg)"
        )
    if classification.limits_unchecked:
        limit = classification.limits_unchecked[0]
        return _fit(
            f"{head}: a day's total above the weight-based limit ({_number(limit.limit_mg)} mg per administration "
            f"for {_number(limit.weight_kg)} kg)"
        )
    checked_inside = [m for m in classification.matches if m.documents]
    if checked_inside:
        caveat = _route_caveat(dose, checked_inside)
        labelled = [m for m in checked_inside if m.range.approval_status == "approved" and m.range.is_reference]
        if labelled:
            return _fit(f"{head}: labelled dose{caveat}")
        approved = [m for m in checked_inside if m.range.approval_status == "approved"]
        if approved:
            reference = label_reference(classification)
            ratio = None if reference is None else _ratio(classification, reference)
            text = f"{head}: documented ({approved[0].range.label})"
            if reference is not None and ratio is not None and ratio[0] != 1:
                text += f"; {_number(ratio[0])}{ratio[1]} the label's {label_phrase(reference)}"
            if caveat and len(text + caveat) > SUMMARY_MAX_CHARS:  # the route caveat is never the part cut off
                text = f"{head}: documented"
            return _fit(text + caveat)
        bands = ", ".join(dict.fromkeys(m.range.band for m in checked_inside))
        statuses = {m.range.approval_status for m in checked_inside}
        return _fit((f"{head}: {bands} (off-label)" if statuses == {"off-label"} else f"{head}: {bands}") + caveat)
    if classification.population_unstated:
        return _fit(f"{head}: not documented for children")
    if classification.schedule_differs:
        stated = next((m for m in classification.schedule_differs if m.range.is_reference), None)
        stated = stated or classification.schedule_differs[0]
        return _fit(f"{head}: not a documented schedule (documented: {label_phrase(stated.range)})")
    claimed = bool(classification.claimed_only_by)
    tail = "; only an article claims this dose" if claimed else ""
    reference = label_reference(classification)
    ratio = None if reference is None else _ratio(classification, reference)
    if reference is not None and ratio is not None and ratio[0] > 1:
        return _fit(f"{head} is {_number(ratio[0])}{ratio[1]} the label's {label_phrase(reference)}{tail}")
    other_route = [
        m
        for m in classification.matches
        if not m.route_fits and m.position == "inside" and m.checked and m.pattern_fits and m.population_fits
    ]
    if other_route:
        routes = " or ".join(dict.fromkeys(m.range.canonical_route for m in other_route))
        return _fit(f"{head}: documented only for {routes} use")
    if not any(m.comparable for m in classification.matches):
        if dose.route is not None and classification.matches and all(not m.route_fits for m in classification.matches):
            return _fit(f"{head}: no documented range for {dose.route} use")
        if any(m.position is None for m in classification.matches):
            return _fit(f"{head}: not assessed; give a body weight")
        return _fit(f"{head}: no documented range to compare with")
    if classification.above_all:
        return _fit(f"{head}: above every checked range{tail}")
    if classification.below_all:
        return _fit(f"{head}: below every checked range{tail}")
    return _fit(f"{head}: in no documented regimen{tail}")
