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

from app.domain.dosing.assessment import Assessment, assess
from app.domain.dosing.classification import Classification, Match, RangeSpec, classify, match_range
from app.domain.dosing.doses import (
    POPULATIONS,
    Dose,
    ScheduleEntry,
    concurrent_schedule,
    parse_dose,
    parse_schedule,
)
from app.domain.dosing.frequencies import Frequency, parse_days, parse_frequency
from app.domain.dosing.limits import WeightCheck, weight_based_check
from app.domain.dosing.numbers import (
    MAX_MG_PER_ADMINISTRATION,
    MAX_MG_PER_DAY,
    MAX_WEIGHT_KG,
    MIN_MG_PER_ADMINISTRATION,
    MIN_WEIGHT_KG,
    PERIOD_DAYS,
    AmountLike,
    DoseInputError,
    Position,
    from_mg,
    is_number_text,
    normalise_unit,
    parse_amount,
    parse_route,
    parse_weight,
    to_mg,
)
from app.domain.dosing.rules import (
    CHECKED_VERIFICATIONS,
    Indicator,
    cds_indicator,
    clinician_summary,
    dose_phrase,
    frequency_phrase,
    is_checked,
)
from app.domain.dosing.warnings import DoseWarning, dose_warnings, route_mismatch

__all__ = [
    "CHECKED_VERIFICATIONS",
    "MAX_MG_PER_ADMINISTRATION",
    "MAX_MG_PER_DAY",
    "MAX_WEIGHT_KG",
    "MIN_MG_PER_ADMINISTRATION",
    "MIN_WEIGHT_KG",
    "PERIOD_DAYS",
    "POPULATIONS",
    "AmountLike",
    "Assessment",
    "Classification",
    "Dose",
    "DoseInputError",
    "DoseWarning",
    "Frequency",
    "Indicator",
    "Match",
    "Position",
    "RangeSpec",
    "ScheduleEntry",
    "WeightCheck",
    "assess",
    "cds_indicator",
    "classify",
    "clinician_summary",
    "concurrent_schedule",
    "dose_phrase",
    "dose_warnings",
    "frequency_phrase",
    "from_mg",
    "is_checked",
    "is_number_text",
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
