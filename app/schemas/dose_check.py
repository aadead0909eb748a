"""Public shapes of /v1/dose-check (request body and the documented response)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

Population = Literal["adults", "children"]
"""Who a dose is for, when known (app.domain.dosing.POPULATIONS)."""


def _number_as_text(value: Any) -> str:
    """A JSON number or string, as text for the domain's strict reader (app.domain.dosing.parse_amount)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError("must be a number (a JSON number, or a string such as '4.5')")
    return value if isinstance(value, str) else str(value)


NumberText = Annotated[
    str,
    BeforeValidator(_number_as_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "maxLength": 40}],
            "description": "A JSON number, or a string in plain ASCII decimal notation.",
        }
    ),
]


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

    amount: NumberText | None = Field(
        default=None,
        description="Amount per administration: a positive JSON number, or a string in plain ASCII decimal "
        "notation (4.5, .5, 1e-3). Underscores, non-ASCII digits, hex, inf and nan are refused (422).",
        examples=[4.5],
    )
    unit: str | None = Field(
        default=None,
        max_length=20,
        description="mg, mcg, ug, µg, ng, g (UCUM codes accepted) or mg/kg (then weight_kg is required).",
        examples=["mg"],
    )
    frequency: str | None = Field(
        default=None,
        max_length=80,
        description="daily, twice daily / BID, every other day, every third day, weekly, every 4 weeks, once, ...",
        examples=["daily"],
    )
    route: str | None = Field(default=None, max_length=40, description="oral or intramuscular (optional).")
    weight_kg: NumberText | None = Field(
        default=None,
        description="Body weight in kg (0.5–500), a number or plain decimal text; required with mg/kg.",
    )
    schedule: str | None = Field(
        default=None,
        max_length=200,
        description="A weekly schedule instead of amount/unit/frequency, e.g. '50 mg weekdays + 100 mg Saturday'.",
    )
    population: Population | None = Field(
        default=None,
        description="Who the dose is for, when known: adults or children. A range for the other population is "
        "not compared; a child's dose is documented only by a range for children. Left out, the children's "
        "weight-based limit applies whenever a body weight is given (the service cannot tell a child by weight).",
    )


class NormalizedDose(BaseModel):
    mg_per_administration: float = Field(description="Milligrams per administration.")
    mg_per_day: float | None = Field(description="Average milligrams per day (null for a single dose).")
    administrations_per_day: float | None = Field(description="Average administrations per day.")
    period_days: float | None = Field(description="Days in one dosing period.")
    frequency: str = Field(description="The frequency as understood.")
    route: str | None = Field(description="The route as understood.")
    population: Population | None = Field(description="The population given (adults, children), or null.")


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
    verification: str = Field(
        description="primary, secondary or article-claim. Only a primary or secondary range documents a dose."
    )
    per: str = Field(
        description="period (amount per period), administration (one administration, once per period) or "
        "administration-only (the source states no frequency: only one administration is compared)."
    )
    schedule: str | None = Field(
        description="The weekly schedule the source states, when its amounts differ by day, or null. A range "
        "documents only the dosing pattern its source states: an amount per day a dose given every day, an "
        "amount per longer period a dose given once every such period, a schedule that schedule."
    )


class RangeRef(BaseModel):
    slug: str = Field(description="The dose range's slug.")
    label: str = Field(description="The range as the source puts it.")
    display: str = Field(description="Human-readable range.")
    min: float | None = Field(description="Lower bound (null: open).")
    max: float | None = Field(description="Upper bound (null: open).")
    min_inclusive: bool = Field(description="Whether min itself is inside.")
    max_inclusive: bool = Field(description="Whether max itself is inside.")
    unit: str = Field(description="UCUM unit of the bounds.")
    period: dict[str, float | str] = Field(description="The period the amount is per: {value, unit}.")
    per: str = Field(description="period, administration or administration-only (see MatchedRange).")
    schedule: str | None = Field(description="The weekly schedule the source states, or null (see MatchedRange).")
    is_reference: bool = Field(description="Whether this is the regimen's reference range.")
    quote: str | None = Field(description="The source's own words.")
    verification: str = Field(description="primary, secondary or article-claim.")


class ClaimedRange(BaseModel):
    regimen: str = Field(description="Regimen slug the claim is recorded under (its approval does not extend to it).")
    band: str = Field(description="Dose band of that regimen.")
    range: RangeRef = Field(description="The unchecked range the dose lies inside.")
    verification: str = Field(description="The range's verification (article-claim).")
    source_citation: dict[str, object] = Field(description="The source making the claim, cited (title, kind).")


class DoseMatch(BaseModel):
    regimen: str = Field(description="Regimen slug.")
    band: str = Field(description="Dose band of the regimen (low-dose, standard-oral, ...).")
    source: str = Field(description="Slug of the source that states the range.")
    range: MatchedRange = Field(description="The range compared with.")
    population: Literal["any", "adults", "children"] = Field(
        description="The population the range's regimen is for (any: the source states none)."
    )
    position: Literal["inside", "below", "above"] | None = Field(
        description="Where the dose lies; null when a weight-based range meets a dose without a weight."
    )
    comparable: bool = Field(
        description="False when the route or the population does not fit, or no position could be found."
    )
    route_fits: bool = Field(description="Whether the dose's route (if given) is the range's route.")
    population_fits: bool = Field(
        description="False when the dose is for another population (given) than the range's regimen is for."
    )
    verification: str | None = Field(description="The range's verification: primary, secondary or article-claim.")
    documents: bool = Field(
        description="True when the dose lies inside this range on its dosing pattern, the route and the "
        "population fit, the range is checked (primary or secondary) and no weight-based limit keeps the "
        "dose from being documented: only such a match documents the dose (`documented` is true exactly "
        "when one does)."
    )
    basis: str = Field(description="average-per-day, per-administration or both.")
    note: str = Field(description="How the comparison was made.")
    source_citation: dict[str, object] = Field(description="The source, cited.")


class DoseWarningOut(BaseModel):
    code: str = Field(
        description="label-contraindication, label-warning (the hepatotoxicity warning that remains on the "
        "label), route-mismatch, weight-based-limit, weight-limit-exceeded, weight-limit-daily-total-not-checked "
        "(a range that states no frequency: one administration keeps to its weight-based limit, the day's "
        "administrations add up to more), population-not-documented (a child's dose that only ranges stating "
        "no population hold), schedule-not-documented, claimed-only (only an unchecked claim covers the dose), "
        "above-all-ranges (above every checked range; names the labelled dose) or not-documented."
    )
    message: str = Field(description="The warning, for a clinician.")
    source: str | None = Field(description="Slug of the source the warning rests on (null: our reasoning).")


class DoseCheckResult(BaseModel):
    normalized: NormalizedDose = Field(description="The dose in mg per administration and per day.")
    dose_text: str = Field(
        description="The dose as a prescriber writes it, e.g. '380 mg every 4 weeks', '1 mg twice daily' "
        "(never an average per day)."
    )
    indicator: Literal["info", "warning"] = Field(
        description="warning when the dose lies in no checked range (above every checked range, covered "
        "only by an article claim, or in no documented regimen); info otherwise. The same rule as the CDS "
        "Hooks cards (which add critical for an opioid together with naltrexone)."
    )
    summary: str = Field(
        description='One plain clinician sentence under 140 characters, e.g. "Naltrexone 150 mg daily is 3× '
        "the label's 50 mg daily\"."
    )
    documented: bool = Field(
        description="True only when the dose lies inside at least one checked (primary or secondary) range "
        "whose route fits. An article claim never documents a dose."
    )
    claimed_only_by: list[ClaimedRange] = Field(
        description="Unchecked (article-claim) ranges the dose lies inside, attributed. Shown beside the "
        "checked verdicts; they never document the dose or extend a regimen's approval to it."
    )
    above_all_documented: bool = Field(description="Above every comparable checked range.")
    below_all_documented: bool = Field(description="Below every comparable checked range.")
    verdict: str = Field(description="Plain-language summary of all verdicts, sources named by title.")
    regimens: list[dict[str, object]] = Field(description="Regimens with a checked range the dose lies inside.")
    bands: list[str] = Field(description="Bands of those regimens.")
    matches: list[DoseMatch] = Field(description="One entry per regimen range and source.")
    mechanisms: list[dict[str, object]] = Field(description="Mechanisms documented for the matching regimens.")
    indications: list[dict[str, object]] = Field(
        description="Indications recorded for the matching regimens, each with its evidence level, "
        "`direction` (supports, mixed, no benefit, not assessed: a negative trial never reads as support) "
        "and `article_only` (true when only the seed article claims it)."
    )
    warnings: list[DoseWarningOut] = Field(description="Label contraindications and dose warnings.")


class DoseCheckResponse(BaseModel):
    data: DoseCheckResult = Field(description="The answer.")
    meta: dict[str, object] = Field(description="Disclaimer, licence, dataset version.")
