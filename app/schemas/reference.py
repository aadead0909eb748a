"""Public shapes of the reference routes: evidence levels and problem types."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from app.domain.evidence import EvidenceLevel
from app.schemas.common import Links, ListMeta, Meta, Schema
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
    meta: ListMeta = Field(description="Dataset metadata and counts (the whole list is one page).")
    links: Links = Field(description="This list (never a next page).")


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
    meta: ListMeta = Field(description="Dataset metadata and counts (the whole list is one page).")
    links: Links = Field(description="This list (never a next page).")


class ProblemTypeResponse(Schema):
    """One problem type."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("problem_type")]})

    data: ProblemTypeInfo = Field(description="The problem type.")


class IndexLinks(Schema):
    """Where everything is (absolute URLs)."""

    self: str = Field(description="This index.")
    collections: dict[str, str] = Field(
        description="Each collection of records by name: drugs, regimens, targets, mechanisms, conditions, "
        "indications, sources."
    )
    search: str = Field(description="Search across every kind of record.")
    dose_check: str = Field(description="Place a naltrexone dose against the documented regimens.")
    evidence_levels: str = Field(description="The evidence vocabulary.")
    problems: str = Field(description="The problem types of errors.")
    docs: str = Field(description="Swagger UI (served by this service, no CDN).")
    redoc: str = Field(description="ReDoc.")
    openapi: str = Field(description="The OpenAPI document.")
    fhir: str = Field(description="FHIR R4 CapabilityStatement (the FHIR base is this URL without /metadata).")
    cds_services: str = Field(description="CDS Hooks discovery.")
    infobutton: str = Field(description="HL7 Infobutton knowledge requests.")


class IndexData(Schema):
    """The service, its version and its links."""

    name: str = Field(description="Service name.")
    title: str = Field(description="Service title.")
    version: str = Field(description="Service version.")
    api_version: str = Field(description="Version of the JSON API (the path prefix).", examples=["v1"])
    links: IndexLinks = Field(description="Where everything is.")


class ApiIndex(Schema):
    """The API index: what this service offers and where."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("index")]})

    data: IndexData = Field(description="The service and its links.")
    meta: Meta = Field(description="Dataset metadata.")
