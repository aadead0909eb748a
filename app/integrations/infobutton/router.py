"""GET /infobutton: the HL7 URL-based knowledge request (thin: parse, look up, render)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import SessionDep, allow_any_query_parameters
from app.api.problems import responses
from app.api.responses import base_url, dumps
from app.errors import ProblemError
from app.integrations.infobutton.feed import atom_xml, build_feed
from app.integrations.infobutton.request import InfobuttonRequestError, parse_request
from app.services.knowledge import knowledge_for_code

router = APIRouter()

_DESCRIPTION = """
HL7 Context-Aware Knowledge Retrieval (Infobutton), URL-based implementation guide, answered like
MedlinePlus Connect: a feed of the matching knowledge (indications for a condition code, regimens for
a drug code), each entry with title, summary, link and updated time.

Parameters that change the answer:
- `mainSearchCriteria.v.c` (required): the code. `mainSearchCriteria.v.cs`: its code system OID:
  ICD-10-CM `2.16.840.1.113883.6.90`, SNOMED CT `2.16.840.1.113883.6.96`, RxNorm `2.16.840.1.113883.6.88`
  (omitted: all three are tried). An ICD-10-CM code also matches its header categories (K50.90 → K50).
  `mainSearchCriteria.v.dn`: display name (echoed, not matched).
- `knowledgeResponseType`: `text/xml` (Atom, the default, as MedlinePlus Connect) or `application/json`.
- `informationRecipient`: `PAT` (plain-language summaries) or `PROV` (clinical summaries, the default).
- `age.v.v` with `age.v.u` (UCUM: a, mo, wk, d): an age excludes entries for another population
  (the children's weight-based regimen for adults, adult-only regimens for children).
- `patientPerson.administrativeGenderCode.c` (F, M, UN): validated; it does not change the current content.

Other parameters of the guide (taskContext, performer, encounter, subTopic, ...) are accepted and ignored;
any other parameter is a 400. An unknown code gives an empty feed; a malformed request a 400 problem+json.
English only (`informationRecipient.languageCode.c` is accepted; answers are in English).
"""


@router.get(
    "/infobutton",
    operation_id="infobuttonKnowledgeRequest",
    tags=["infobutton"],
    summary="Infobutton knowledge request",
    description=_DESCRIPTION,
    responses={
        200: {
            "description": "A feed (Atom XML or JSON) of matching knowledge; empty for an unknown code.",
            "content": {"text/xml": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}},
        },
        **responses("bad-request", "validation-error"),
    },
    openapi_extra={"x-allow-extra-query-parameters": True},
)
@allow_any_query_parameters
def knowledge_request(request: Request, session: SessionDep) -> Response:
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
    entries = knowledge_for_code(session, code=knowledge.code, system=knowledge.system, age_years=knowledge.age_years)
    base = base_url(request)
    feed = build_feed(knowledge, entries, base, str(request.url))
    if knowledge.response_type == "application/json":
        return Response(dumps(feed), media_type="application/json")
    return Response(atom_xml(feed), media_type="text/xml; charset=utf-8")
