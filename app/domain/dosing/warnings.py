"""Dose warnings: what a classification tells a clinician to look at, each with its stable code and the
range (so the source) it rests on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.dosing.classification import Classification, RangeSpec
from app.domain.dosing.doses import Dose
from app.domain.dosing.rules import documenting_routes, dose_phrase, label_phrase, label_reference


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
    exceeded, a fitting amount on a schedule no checked source states, a dose covered only by an unchecked
    claim, a dose above every checked range, or in none."""
    dose = classification.dose
    out: list[DoseWarning] = []
    exceeded = {w.range: w for w in (*classification.limits_exceeded, *classification.limits_unchecked)}
    for m in classification.matches:
        if not m.route_fits and m.position == "inside":
            schedule = (
                ""
                if m.pattern_fits
                else f" Its schedule differs too: the source states {label_phrase(m.range)}, the dose is "
                f"{dose_phrase(dose)}."
            )
            out.append(
                DoseWarning(
                    "route-mismatch",
                    f"The amount fits {m.range.cited}: '{m.range.label}' ({m.range.band}), "
                    f"{'documented' if m.range.checked else 'only claimed, not checked,'} for "
                    f"{m.range.canonical_route} use, but the dose is {dose.route}.{schedule}",
                    m.range.range_slug,
                )
            )
        check = exceeded.get(m.range)
        if check is not None:
            code = "weight-limit-exceeded" if check.exceeds else "weight-limit-daily-total-not-checked"
            out.append(DoseWarning(code, check.message, m.range.range_slug))
    for m in classification.population_unstated:
        out.append(
            DoseWarning(
                "population-not-documented",
                f"The amount fits {m.range.cited}: '{m.range.label}', which states no population. No checked "
                f"source gives this dose for children{_childrens_ranges(classification)}.",
                m.range.range_slug,
            )
        )
    for m in classification.schedule_differs:
        out.append(
            DoseWarning(
                "schedule-not-documented",
                f"The amount per day fits {m.range.cited}: '{m.range.label}', but that source states "
                f"{label_phrase(m.range)}. This schedule ({dose_phrase(dose)}) was not checked: no checked "
                "source states it.",
                m.range.range_slug,
            )
        )
    for m in classification.claimed_only_by:
        if not classification.documented:
            out.append(
                DoseWarning(
                    "claimed-only",
                    f"Only “{m.range.cited}” states this dose ('{m.range.label}'), a claim no checked source "
                    "supports: it does not document the dose.",
                    m.range.range_slug,
                )
            )
    if dose.route is None and classification.documented:
        documenting = [m for m in classification.matches if m.documents]
        out.append(
            DoseWarning(
                "route-not-given",
                f"No route was given, so none was checked: the ranges that document this dose are for "
                f"{documenting_routes(documenting)} use.",
                documenting[0].range.range_slug,
            )
        )
    label = label_reference(classification)
    named = label if label is not None and label.checked else None
    label_text = "" if named is None else f" The label gives {label_phrase(named)} ({named.cited})."
    label_slug = None if named is None else named.range_slug  # the warning rests on the label it names
    if classification.above_all:
        out.append(
            DoseWarning(
                "above-all-ranges", "The dose lies above every checked documented range." + label_text, label_slug
            )
        )
    elif (
        not classification.documented
        and classification.matches
        and not exceeded
        and not classification.population_unstated
    ):
        out.append(
            DoseWarning(
                "not-documented",
                f"The dose lies in no documented regimen ({classification.verdict})." + label_text,
                label_slug,
            )
        )
    return tuple(out)


def _childrens_ranges(classification: Classification) -> str:
    """The checked children's ranges, named: ``; the only children's range is …``, or nothing."""
    ranges = tuple(
        dict.fromkeys(
            f"{m.range.cited}: '{m.range.label}'"
            for m in classification.matches
            if m.range.population == "children" and m.range.checked
        )
    )
    if not ranges:
        return ""
    return ("; the only children's range is " if len(ranges) == 1 else "; the children's ranges are ") + "; ".join(
        ranges
    )
