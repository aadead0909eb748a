"""One complete dose assessment: the classification, its warnings, the indicator and the wording.

The single entry point the dose-check service and the CDS Hooks cards use, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.dosing.classification import Classification, RangeSpec, classify
from app.domain.dosing.doses import Dose
from app.domain.dosing.limits import weight_based_check
from app.domain.dosing.rules import Indicator, cds_indicator, clinician_summary, dose_phrase
from app.domain.dosing.warnings import DoseWarning, dose_warnings


@dataclass(frozen=True, slots=True)
class Assessment:
    """A dose against every range: ``classification``; ``warnings`` (dose warnings, then the
    weight-based limit when it is kept); ``indicator``, ``summary`` and ``dose_text`` from the rules."""

    classification: Classification
    warnings: tuple[DoseWarning, ...]
    indicator: Indicator
    summary: str
    dose_text: str

    @property
    def dose(self) -> Dose:
        return self.classification.dose


def assess(dose: Dose, ranges: Sequence[RangeSpec], *, opioid_conflict: bool = False) -> Assessment:
    """Classify ``dose`` against ``ranges`` and apply the decision rules (see :mod:`.rules`)."""
    classification = classify(dose, ranges)
    warnings = list(dose_warnings(classification))
    for m in classification.matches if dose.weight_kg is not None else ():  # a limit needs a body weight
        check = weight_based_check(dose, m.range) if m.comparable and m.checked else None
        if check is not None and not check.exceeds and not check.daily_unchecked:
            warnings.append(DoseWarning("weight-based-limit", check.message, m.range.range_slug))
    return Assessment(
        classification=classification,
        warnings=tuple(warnings),
        indicator=cds_indicator(
            opioid_conflict=opioid_conflict,
            assessable=True,
            documented=classification.documented,
            above_all_checked=classification.above_all,
            claimed_only=bool(classification.claimed_only_by) and not classification.documented,
            limit_exceeded=classification.limited,
        ),
        summary=clinician_summary(classification),
        dose_text=dose_phrase(dose),
    )
