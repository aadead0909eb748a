"""GET /infobutton: the HL7 URL-based knowledge request (thin: parse, look up, render)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import allow_any_query_parameters
from app.api.problems import responses
from app.api.read_model import ReadModelDep
from app.api.responses import base_url, dumps
from app.domain.vocabulary import CODE_SYSTEM_OIDS
from app.errors import ProblemError
from app.integrations.infobutton.examples import EXAMPLE_ATOM, EXAMPLE_JSON, EXAMPLE_QUERY
from app.integrations.infobutton.feed import atom_xml, build_feed
from app.integrations.infobutton.request import (
    CODE_PATTERN,
    GENDERS,
    OID_PATTERN,
    RECIPIENTS,
    RESPONSE_TYPES,
    InfobuttonRequestError,
    parse_request,
)
from app.services.knowledge import knowledge_for_code

router = APIRouter()

_DESCRIPTION = f"""
HL7 Context-Aware Knowledge Retrieval (Infobutton), URL-based implementation guide, answered like
MedlinePlus Connect: a feed of the matching knowledge (indications for a condition code, regimens for
a drug code), each entry with title, summary, updated time and two links: the record's page for people
(`/pages/{{collection}}/{{slug}}`, HTML, first) and its JSON (`/v1/{{collection}}/{{slug}}`).

Parameters that change the answer:
- `mainSearchCriteria.v.c` (required): the code. `mainSearchCriteria.v.cs`: its code system OID:
  ICD-10-CM `{CODE_SYSTEM_OIDS["icd-10-cm"]}`, SNOMED CT `{CODE_SYSTEM_OIDS["snomed-ct"]}` (conditions), RxNorm
  `{CODE_SYSTEM_OIDS["rxnorm"]}`, ATC `{CODE_SYSTEM_OIDS["atc"]}`, UNII `{CODE_SYSTEM_OIDS["unii"]}` (the drug and
  its salts) (omitted: all five are tried). An ICD-10-CM code also matches its header
  categories (K50.90 → K50). Another code system (ICD-9-CM `2.16.840.1.113883.6.103`, LOINC, NDC, ...) is a
  valid request for which we hold nothing: an empty feed, as MedlinePlus Connect answers.
- `knowledgeResponseType`: `text/xml` (Atom, the default, as MedlinePlus Connect) or `application/json`.
- `informationRecipient`: `PAT` (plain-language summaries), `PROV` (clinical summaries, the default) or `PAYOR`
  (clinical summaries).
- `age.v.v` with `age.v.u` (UCUM: a, mo, wk, d): an age excludes entries for another population
  (the children's weight-based regimen for adults, adult-only regimens for children).
- `patientPerson.administrativeGenderCode.c` (F, M, UN): validated; it does not change the current content.

Every other parameter of the guide is accepted and ignored, whatever its sub-attribute (`.c`, `.cs`, `.dn`,
`.ot`, `.v`, `.u`, `.n`, `.id.root`, numbered repeats): `mainSearchCriteria.v.dn`/`.v.ot`, `taskContext.c.c`,
`subTopic.v.c`/`.cs`/`.dn`, `informationRecipient.*`, `performer` and `performer.*`, `patientPerson.*`,
`ageGroup.*`, `encounter.c.c`, `serviceDeliveryLocation.id.root`, `knowledgeRequestNotification.*`,
`executionMode`, `holder.assignedEntity.n`, `assignedEntity.representedOrganization.n`/`.id.root`,
`assignedAuthorizedPerson.id.root`, `representedOrganization.id.root`, `observation.*`,
`severityObservation.*`, `locationOfInterest.*`; so is the cache buster `_`. A name outside the guide is a 400
(a misspelt parameter would otherwise change the answer silently). An unknown code gives an empty feed; a
malformed request a 400 problem+json. English only (`informationRecipient.languageCode.c` is accepted;
answers are in English).

Example: `GET /infobutton?{EXAMPLE_QUERY}`.
"""


def _param(
    name: str, description: str, schema: dict[str, Any], *, required: bool = False, **extra: Any
) -> dict[str, Any]:
    if not required:  # an empty value counts as absent
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
        description += " An empty value counts as absent."
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema, **extra}


PARAMETERS = [
    _param(
        "mainSearchCriteria.v.c",
        "The code of the concept of interest: an ICD-10-CM or SNOMED CT condition code, or an RxNorm drug code "
        "(letters, digits, '.' and '-', at most 30 characters).",
        {"type": "string", "minLength": 1, "maxLength": 30, "pattern": CODE_PATTERN},
        required=True,
        examples={
            "icd10cm": {"summary": "ICD-10-CM: fibromyalgia", "value": "M79.7"},
            "rxnorm": {"summary": "RxNorm: naltrexone (ingredient)", "value": "7243"},
        },
    ),
    _param(
        "mainSearchCriteria.v.cs",
        "The code system's OID. Ours: ICD-10-CM, SNOMED CT, RxNorm; any other valid OID gives an empty feed.",
        {"type": "string", "pattern": OID_PATTERN, "maxLength": 200},
        example=CODE_SYSTEM_OIDS["icd-10-cm"],
    ),
    _param(
        "knowledgeResponseType",
        "text/xml (Atom, the default) or application/json (MedlinePlus Connect's JSON shape).",
        {"type": "string", "enum": list(RESPONSE_TYPES), "default": "text/xml"},
    ),
    _param(
        "informationRecipient",
        "Who reads the answer: PAT (plain-language summaries), PROV (clinical, the default) or PAYOR (clinical).",
        {"type": "string", "enum": list(RECIPIENTS), "default": "PROV"},
    ),
    _param(
        "age.v.v",
        "The patient's age, in the unit of age.v.u: it excludes entries for another population.",
        {"type": "number", "minimum": 0, "maximum": 150},
    ),
    _param(
        "age.v.u",
        "UCUM unit of age.v.v: a (years, the default), mo, wk or d.",
        {"type": "string", "enum": ["a", "mo", "wk", "d"], "default": "a"},
    ),
    _param(
        "patientPerson.administrativeGenderCode.c",
        "F, M or UN: validated; it does not change the current content.",
        {"type": "string", "enum": list(GENDERS)},
    ),
    _param("_", "A cache buster (any value): accepted and ignored.", {"type": "string"}),
]


@router.get(
    "/infobutton",
    operation_id="infobuttonKnowledgeRequest",
    tags=["infobutton"],
    summary="Infobutton knowledge request",
    description=_DESCRIPTION,
    responses={
        200: {
            "description": "A feed (Atom XML or JSON) of matching knowledge; empty for an unknown code or a code "
            "system we hold no codes of.",
            "content": {
                "text/xml": {"schema": {"type": "string"}, "example": EXAMPLE_ATOM},
                "application/json": {"schema": {"type": "object"}, "example": EXAMPLE_JSON},
            },
        },
        **responses("bad-request", "validation-error"),
    },
    openapi_extra={"x-allow-extra-query-parameters": True, "parameters": PARAMETERS},
)
@allow_any_query_parameters
def knowledge_request(request: Request, model: ReadModelDep) -> Response:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    try:
        knowledge = parse_request(params)
    except InfobuttonRequestError as exc:
        raise ProblemError(
            "bad-request",
            f"Invalid Infobutton request: {exc.field}: {exc.message}.",
            errors=[{"field": exc.field, "in": "query", "message": exc.message}],
        ) from None
    entries = (
        knowledge_for_code(model, code=knowledge.code, system=knowledge.system, age_years=knowledge.age_years)
        if knowledge.held
        else []
    )
    base = base_url(request)
    query = request.url.query
    self_url = f"{base}{request.url.path}" + (f"?{query}" if query else "")
    feed = build_feed(knowledge, entries, base, self_url)
    if knowledge.response_type == "application/json":
        return Response(dumps(feed), media_type="application/json")
    return Response(atom_xml(feed), media_type="text/xml; charset=utf-8")
