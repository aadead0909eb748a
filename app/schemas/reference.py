"""Public shapes of the reference routes: evidence levels and problem types."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from app.domain.evidence import EvidenceLevel
from app.schemas.common import Schema
from app.schemas.examples import example


class EvidenceLevelDefinition(Schema):
    """One level of the closed evidence vocabulary."""

    level: EvidenceLevel = Field(description="The level's code, as used in evidence_level fields.")
    rank: int = Field(description="1 is the strongest.")
    title: str = Field(description="Short title.")
    definition: str = Field(description="Written definition.")


class EvidenceLevelList(Schema):
    """Every evidence level, strongest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("evidence_levels")]})

    data: list[EvidenceLevelDefinition] = Field(description="The levels, strongest first.")


class ProblemTypeInfo(Schema):
    """What one RFC 9457 problem ``type`` means."""

    type: str = Field(
        description="The type URI, as in the `type` member of an error.", examples=["/problems/not-found"]
    )
    status: int = Field(description="The HTTP status it comes with.")
    title: str = Field(description="The title, as in the `title` member of an error.")
    description: str = Field(description="What it means.")


class ProblemTypeList(Schema):
    """Every problem type this service returns."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("problem_types")]})

    data: list[ProblemTypeInfo] = Field(description="The problem types.")


class ProblemTypeResponse(Schema):
    """One problem type."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("problem_type")]})

    data: ProblemTypeInfo = Field(description="The problem type.")
