"""Public shapes of /v1/regimens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.domain.vocabulary import ApprovalStatus, Route, Verification
from app.schemas.common import (
    DrugRef,
    Recorded,
    Schema,
    SourceCitation,
    Summaries,
    envelopes,
    record_examples,
)

Population = Literal["any", "adults", "children"]


class Period(Schema):
    """The period a dose amount is given over (UCUM)."""

    value: float = Field(description="Length of the period in its unit, e.g. 1.")
    unit: Literal["d", "wk", "mo"] = Field(description="UCUM unit of the period: d (day), wk (week), mo (month).")


class Cap(Schema):
    """An absolute maximum that bounds a weight-based range."""

    value: float = Field(description="The maximum amount.")
    unit: Literal["mg", "ug"] | None = Field(description="UCUM unit of the maximum.")


class DoseRange(Schema):
    """A dose range as one source states it. ``min`` or ``max`` may be open (null)."""

    slug: str = Field(description="Stable identifier of the range.")
    label: str = Field(description="The range in the source's own terms.")
    display: str = Field(description="The range as text, e.g. '1–5 mg/day' or '< 4 mg/day'.")
    min: float | None = Field(description="Lower bound of the amount, or null when open.")
    max: float | None = Field(description="Upper bound of the amount, or null when open.")
    min_inclusive: bool = Field(description="Whether the lower bound itself lies in the range.")
    max_inclusive: bool = Field(description="Whether the upper bound itself lies in the range.")
    unit: Literal["mg", "ug", "mg/kg"] = Field(description="UCUM unit of the amount.")
    period: Period = Field(description="The period the amount is given over.")
    per: Literal["period", "administration", "administration-only"] = Field(
        description="period: the amount is per period (e.g. per day); administration: per single administration, "
        "once per period; administration-only: per single administration, the source states no frequency "
        "(the period is not used to judge a dose)."
    )
    cap: Cap | None = Field(description="An absolute maximum (for weight-based ranges), or null.")
    schedule: str | None = Field(
        description="The weekly schedule the source states when its amounts differ by day (e.g. '50 mg weekdays + "
        "100 mg Saturday'), or null. The range then gives the weekly total and documents that schedule only."
    )
    is_reference: bool = Field(description="Whether this is the regimen's reference range.")
    reference_reason: str | None = Field(description="Why it is the reference range, or null.")
    quote: str | None = Field(description="The source's own words, or null.")
    verification: Verification = Field(description="How the range was verified.")
    note: str | None = Field(description="A caveat, or null.")
    source: SourceCitation = Field(description="The source that states the range.")


class WarningStatement(Schema):
    """One statement under a record warning, in its source's words, attributed, with its status."""

    text: str = Field(
        description="The statement as the content records it (a label contraindication or a label change)."
    )
    type: Literal["label-contraindication", "label-change"] = Field(
        description="label-contraindication: a contraindication the label states; label-change: an event of "
        "the label's history (e.g. the boxed warning removed in 2013)."
    )
    note: str | None = Field(default=None, description="A caveat (e.g. 'quote it per label, never as universal').")
    date: str | None = Field(default=None, description="Date of a label change, as the source states it.")
    product: str | None = Field(default=None, description="Product whose label changed (Vivitrol, ReVia).")
    verification: Verification | None = Field(description="primary or secondary, as in the reference facts.")
    source: SourceCitation | None = Field(description="The source the statement rests on.")


class RecordWarning(Schema):
    """A label warning carried by every regimen and indication, so that a page showing one record shows it.

    Derived at representation time from the drug record (its label contraindications and regulatory
    history); the title is our heading, the statements are the sources' own content.
    """

    code: Literal["opioid-contraindication", "hepatotoxicity"] = Field(
        description="opioid-contraindication: the label contraindicates naltrexone with opioids (receiving "
        "opioid analgesics, opioid dependence, acute withdrawal, failed naloxone challenge); hepatotoxicity: "
        "the boxed warning was removed in 2013 but a hepatotoxicity warning remains on the label."
    )
    kind: Literal["contraindication", "warning"] = Field(description="contraindication or warning.")
    title: str = Field(description="Our heading for the group of statements.")
    statements: list[WarningStatement] = Field(description="The statements, each attributed, with its status.")


class RegimenSummary(Schema):
    """A regimen in brief, as embedded in mechanisms and indications."""

    slug: str = Field(description="The regimen's slug.")
    name: str = Field(description="The regimen's name.")
    band: str = Field(description="Dose band, e.g. low-dose, standard-oral.")
    route: Route = Field(description="Route of administration.")
    approval_status: ApprovalStatus = Field(description="approved (FDA) or off-label.")
    population: Population = Field(description="Population the regimen is for: any, adults or children.")


class Regimen(Recorded, Summaries):
    """A dosing regimen with every source's dose range, attributed, and the reference range."""

    model_config = record_examples("regimen")

    slug: str = Field(description="Stable identifier, e.g. low-dose-naltrexone.")
    name: str = Field(description="The regimen's name.")
    drug: DrugRef = Field(description="The drug.")
    band: str = Field(description="Dose band, e.g. low-dose, standard-oral.")
    route: Route = Field(description="Route of administration.")
    form: str = Field(description="Dosage form.")
    frequency: str = Field(description="How often it is given, e.g. once daily.")
    timing: str | None = Field(description="When it is given, as the sources say, or null.")
    approval_status: ApprovalStatus = Field(description="approved (FDA) or off-label.")
    population: Population = Field(description="Population the regimen is for: any, adults or children.")
    reference_range: str | None = Field(description="Slug of the reference range among dose_ranges, or null.")
    dose_ranges: list[DoseRange] = Field(description="Every source's range, in curated order.")
    sources: list[SourceCitation] = Field(description="The sources of the ranges, each once.")
    warnings: list[RecordWarning] = Field(
        description="The label's opioid contraindication and its hepatotoxicity warning, attributed, at every dose "
        "(also on low-dose regimens: the label contraindications concern the drug, not the dose)."
    )


RegimenListItem, RegimenList, RegimenResponse = envelopes(Regimen, "regimen", "regimens")
