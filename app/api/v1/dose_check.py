"""POST and GET /v1/dose-check: place a dose against the documented regimens (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from app.api.json_body import loads
from app.api.media import plain_json
from app.api.problems import responses
from app.api.responses import JSON_MEDIA_TYPE, record_body
from app.api.shortcuts import replay
from app.domain.dosing import DoseInputError
from app.errors import ProblemError
from app.readmodel import ReadModel
from app.schemas.dose_check import DoseCheckRequest, DoseCheckResponse, Population
from app.services.dose_check import DoseRequest, check_dose_in

router = APIRouter(prefix="/v1", tags=["dose intelligence"])

_DESCRIPTION = """
Places a naltrexone dose against **every attributed dose range of every regimen** in the knowledge base
and says, per range and source, whether it lies inside, below or above. Where sources disagree (4.5 mg a
day: inside the review's 1–5 mg and equal to the most studied dose, above the article's "less than 4 mg")
every verdict comes back, attributed. `documented` is true when the dose lies inside at least one checked range
whose route fits. The answer also carries the mechanisms and indications documented for the matching
regimens, and warnings: the label's contraindications (at every dose), a route that does not fit (an
"injection" at 4.5 mg), the paediatric trial's weight-based limit when `weight_kg` is given (a children's limit: give
`population: adults` for an adult, and a range for children is then not compared), and a dose
that lies in no documented regimen or above every one.

Numbers (`amount`, `weight_kg`) are ASCII decimal notation only: digits, an optional sign, one `.` and
an optional plain exponent (`4.5`, `.5`, `1e-3`). Underscores (`4_5`), non-ASCII digits (`４`, `٤`), hex,
`inf`/`nan` and thousands separators are a 422 naming the field, never read as another number.

Only a checked range (verification `primary` or `secondary`) documents a dose. A range whose
verification is `article-claim` (the seed article's figures) is listed in `claimed_only_by` when the
dose lies inside it, beside the checked verdicts, and never makes the dose documented or puts it in an
approved regimen. `indicator` is `warning` when the dose lies in no checked range, `info` otherwise;
`summary` says it in one clinician sentence (under 140 characters) and `dose_text` writes the dose as
a prescriber does ("380 mg every 4 weeks").

Normalisation is exact (decimal arithmetic): units mg, mcg/ug/µg, ng, g and mg/kg; periods d = 1, wk = 7,
mo = 28 days. Bad input (zero, negative, NaN, infinite or absurd amounts; an unknown unit or frequency;
mg/kg without a weight; text where a number belongs) is a 422 problem+json naming the field.
"""

_RESPONSES = {
    200: {"model": DoseCheckResponse, "description": "The verdicts, attributed."},
    **responses("validation-error", "bad-request"),
}


def dose_input_problem(exc: DoseInputError, where: str) -> ProblemError:
    """The one translation of a dose the domain cannot read into a 422 problem naming the field."""
    return ProblemError(
        "validation-error",
        f"Invalid {exc.field}: {exc.message}.",
        errors=[{"field": exc.field, "in": where, "message": exc.message}],
    )


def _answer(model: ReadModel, request: DoseRequest, where: str) -> Response:
    """Answered on the event loop from the app's read model (the object /v1 answers from): no store query
    at all. (A GET check is kept by the one response cache like any /v1 GET; a POST is computed each time.)"""
    try:
        result = check_dose_in(model, request)
    except DoseInputError as exc:
        raise dose_input_problem(exc, where) from None
    return Response(record_body(result, model.info), media_type=JSON_MEDIA_TYPE)


@router.post(
    "/dose-check",
    operation_id="checkDose",
    summary="Check a dose (body)",
    description=_DESCRIPTION,
    responses=_RESPONSES,
)
async def post_dose_check(body: DoseCheckRequest, http: Request) -> Response:
    return _answer(await http.app.state.read_model.get(), _dose_request(body), "body")


def _dose_request(body: DoseCheckRequest) -> DoseRequest:
    return DoseRequest(
        body.amount, body.unit, body.frequency, body.route, body.weight_kg, body.schedule, body.population
    )


def _parsed(raw: bytes) -> DoseCheckRequest | None:
    """The body as FastAPI reads it (``json.loads``, then the model), or None when it does not parse or validate."""
    try:
        return DoseCheckRequest.model_validate(loads(raw))
    except (ValueError, ValidationError, RecursionError):  # JSONDecodeError, UnicodeDecodeError: ValueErrors
        return None


@router.get(
    "/dose-check",
    operation_id="checkDoseByQuery",
    summary="Check a dose (query, linkable)",
    description=_DESCRIPTION + "\nThe same check with the fields as query parameters, so that a link can carry a dose.",
    responses=_RESPONSES,
)
async def get_dose_check(
    http: Request,
    amount: Annotated[
        str | None,
        Query(
            max_length=40, description="Amount per administration: a plain decimal (4.5, 0.1, 1e-3).", examples=["4.5"]
        ),
    ] = None,
    unit: Annotated[str | None, Query(max_length=20, description="mg, mcg, ug, µg, ng, g or mg/kg.")] = None,
    frequency: Annotated[str | None, Query(max_length=80, description="daily, BID, every other day, ...")] = None,
    route: Annotated[str | None, Query(max_length=40, description="oral or intramuscular.")] = None,
    weight_kg: Annotated[
        str | None, Query(max_length=40, description="Body weight in kg, a plain decimal (required with mg/kg).")
    ] = None,
    schedule: Annotated[str | None, Query(max_length=200, description="A weekly schedule instead.")] = None,
    population: Annotated[
        Population | None, Query(description="adults or children, when known (see the body's `population`).")
    ] = None,
) -> Response:
    model = await http.app.state.read_model.get()
    request = DoseRequest(amount, unit, frequency, route, weight_kg, schedule, population)
    return _answer(model, request, "query")


class DoseCheckShortcut(BaseRoute):
    """``POST /v1/dose-check`` with a JSON body that parses and validates, answered without FastAPI's
    dependency solving and body validation (a third of a computed check's time): the body is parsed as
    FastAPI does (``json.loads``, then the same model) and answered by the same :func:`_answer`, inside the
    same middleware. A query string, another content type, or a body that does not parse or validate goes to
    the documented route with the body replayed, which answers it (or its 422) as documented."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.documented = next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is post_dose_check)
        self.path = self.path_format = self.documented.path
        #: Checks answered here since start-up.
        self.answered = 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or scope["query_string"]
            or _DECLINED in scope
            or not plain_json(scope["headers"])
        ):
            return Match.NONE, {}
        return Match.FULL, {"endpoint": post_dose_check, "route": self.documented}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = Request(scope, receive)
        raw = await http.body()
        body = _parsed(raw)
        if body is None:
            scope[_DECLINED] = True
            await self.app.router.app(scope, replay(raw, receive), send)
            return
        self.answered += 1
        response = await post_dose_check(body, http)
        await response(scope, receive, send)

    async def answer_now(self, _scope: Scope, raw: bytes, model: ReadModel) -> Response | None:
        """The front door's call (app/api/front_door_posts.py): the check of a body already read, from
        ``model``; None when the body does not parse or validate, or the dose cannot be read (the documented
        route's 422s are the stack's)."""
        body = _parsed(raw)
        if body is None:
            return None
        try:
            response = _answer(model, _dose_request(body), "body")
        except ProblemError:
            return None
        self.answered += 1
        return response


#: Set on a request's scope when the shortcut hands it to the documented route.
_DECLINED = "ldnkb.dose_check_shortcut_declined"
