"""Reference routes: evidence levels, problem types, health."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.api.problems import LIST_ERRORS, responses
from app.api.responses import JSON_MEDIA_TYPE, dumps
from app.domain.evidence import DEFINITIONS
from app.errors import PROBLEM_TYPES, ProblemError
from app.schemas.openapi import ok
from app.schemas.reference import EvidenceLevelList, ProblemTypeList, ProblemTypeResponse

router = APIRouter()


@router.get(
    "/v1/evidence-levels",
    operation_id="listEvidenceLevels",
    tags=["reference"],
    summary="List evidence levels",
    responses={**ok(EvidenceLevelList, "The evidence levels, strongest first.", "evidence_levels"), **LIST_ERRORS},
)
def list_evidence_levels() -> Response:
    """The closed vocabulary of evidence levels, strongest first, with written definitions. A level says how
    strong the evidence is by design, never how enthusiastic a source was."""
    data = [{"level": d.level.value, "rank": d.rank, "title": d.title, "definition": d.definition} for d in DEFINITIONS]
    return Response(dumps({"data": data}), media_type=JSON_MEDIA_TYPE)


@router.get(
    "/problems",
    operation_id="listProblemTypes",
    tags=["reference"],
    summary="List problem types",
    responses={**ok(ProblemTypeList, "Every problem type.", "problem_types"), **LIST_ERRORS},
)
def list_problem_types() -> Response:
    """Every RFC 9457 problem `type` this service returns, with its status and meaning.

    Every error of this service is an `application/problem+json` body whose `type` is one of these URIs
    (relative to the service's base URL, e.g. `/problems/not-found`); each resolves to its own definition
    at `GET /problems/{slug}`. The URIs are stable: a type is never renamed or given another meaning."""
    data = [
        {"type": p.uri, "status": p.status, "title": p.title, "description": p.description}
        for p in PROBLEM_TYPES.values()
    ]
    return Response(dumps({"data": data}), media_type=JSON_MEDIA_TYPE)


@router.get(
    "/problems/{slug}",
    operation_id="getProblemType",
    tags=["reference"],
    summary="Get a problem type",
    responses={
        **ok(ProblemTypeResponse, "The problem type.", "problem_type"),
        **responses("not-found", "validation-error"),
    },
)
def get_problem_type(slug: str) -> Response:
    """What one problem `type` URI means: the `type` member of an error body is this route's path."""
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise ProblemError("not-found", f"No problem type '{slug}'.")
    data = {
        "type": problem.uri,
        "status": problem.status,
        "title": problem.title,
        "description": problem.description,
    }
    return Response(dumps({"data": data}), media_type=JSON_MEDIA_TYPE)
