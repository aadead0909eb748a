"""Public shapes of /v1/dose-check (request body and the documented response)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DoseCheckRequest(BaseModel):
    """A dose to place against the documented regimens. Give amount + unit + frequency, or a schedule."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "oral"},
                {"amount": 380, "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"},
                {"amount": 0.1, "unit": "mg/kg", "frequency": "daily", "weight_kg": 30},
            ]
        },
    )

    amount: Decimal | None = Field(
        default=None, description="Amount per administration (a positive, finite number).", examples=[4.5]
    )
    unit: str | None = Field(
        default=None,
        max_length=20,
        description="mg, mcg, ug, µg, g (UCUM codes accepted) or mg/kg (then weight_kg is required).",
        examples=["mg"],
    )
    frequency: str | None = Field(
        default=None,
        max_length=80,
        description="daily, twice daily / BID, every other day, every third day, weekly, every 4 weeks, once, ...",
        examples=["daily"],
    )
    route: str | None = Field(default=None, max_length=40, description="oral or intramuscular (optional).")
    weight_kg: Decimal | None = Field(default=None, description="Body weight in kg; required with mg/kg.")
    schedule: str | None = Field(
        default=None,
        max_length=200,
        description="A weekly schedule instead of amount/unit/frequency, e.g. '50 mg weekdays + 100 mg Saturday'.",
    )


class NormalizedDose(BaseModel):
    mg_per_administration: float = Field(description="Milligrams per administration.")
    mg_per_day: float | None = Field(description="Average milligrams per day (null for a single dose).")
    administrations_per_day: float | None = Field(description="Average administrations per day.")
    period_days: float | None = Field(description="Days in one dosing period.")
    frequency: str = Field(description="The frequency as understood.")
    route: str | None = Field(description="The route as understood.")


class MatchedRange(BaseModel):
    slug: str = Field(description="The dose range's slug.")
    label: str = Field(description="The range as the source puts it.")
    display: str = Field(description="Human-readable range.")
    min: float | None = Field(description="Lower bound (null: open).")
    max: float | None = Field(description="Upper bound (null: open).")
    min_inclusive: bool = Field(description="Whether min itself is inside.")
    max_inclusive: bool = Field(description="Whether max itself is inside.")
    unit: str = Field(description="UCUM unit of the bounds.")
    period: dict[str, float | str] = Field(description="The period the amount is per: {value, unit}.")
    mg_per_day_min: float | None = Field(description="Lower bound as average mg/day.")
    mg_per_day_max: float | None = Field(description="Upper bound as average mg/day.")
    is_reference: bool = Field(description="Whether this is the regimen's reference range.")
    quote: str | None = Field(description="The source's own words.")
    verification: str = Field(description="primary, secondary or article-claim.")


class DoseMatch(BaseModel):
    regimen: str = Field(description="Regimen slug.")
    band: str = Field(description="Dose band of the regimen (low-dose, standard-oral, ...).")
    source: str = Field(description="Slug of the source that states the range.")
    range: MatchedRange = Field(description="The range compared with.")
    position: Literal["inside", "below", "above"] | None = Field(
        description="Where the dose lies; null when a weight-based range meets a dose without a weight."
    )
    comparable: bool = Field(description="False when the route does not fit or no position could be found.")
    route_fits: bool = Field(description="Whether the dose's route (if given) is the range's route.")
    basis: str = Field(description="average-per-day, per-administration or both.")
    note: str = Field(description="How the comparison was made.")
    source_citation: dict[str, object] = Field(description="The source, cited.")


class DoseWarningOut(BaseModel):
    code: str = Field(
        description="label-contraindication, route-mismatch, weight-based-limit, weight-limit-exceeded, "
        "above-all-ranges or not-documented."
    )
    message: str = Field(description="The warning, for a clinician.")
    source: str | None = Field(description="Slug of the source the warning rests on (null: our reasoning).")


class DoseCheckResult(BaseModel):
    normalized: NormalizedDose = Field(description="The dose in mg per administration and per day.")
    documented: bool = Field(description="True when the dose lies inside at least one documented regimen.")
    above_all_documented: bool = Field(description="Above every comparable documented range.")
    below_all_documented: bool = Field(description="Below every comparable documented range.")
    verdict: str = Field(description="Plain-language summary of all verdicts, attributed.")
    regimens: list[dict[str, object]] = Field(description="Regimens the dose lies inside.")
    bands: list[str] = Field(description="Bands the dose lies inside.")
    matches: list[DoseMatch] = Field(description="One entry per regimen range and source.")
    mechanisms: list[dict[str, object]] = Field(description="Mechanisms documented for the matching regimens.")
    indications: list[dict[str, object]] = Field(description="Indications documented for the matching regimens.")
    warnings: list[DoseWarningOut] = Field(description="Label contraindications and dose warnings.")


class DoseCheckResponse(BaseModel):
    data: DoseCheckResult = Field(description="The answer.")
    meta: dict[str, object] = Field(description="Disclaimer, licence, dataset version.")
