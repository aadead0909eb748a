"""Reference routes: evidence levels, problem types, health."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.api.problems import LIST_ERRORS, responses
from app.api.responses import JSON_MEDIA_TYPE, dumps
from app.domain.evidence import DEFINITIONS
from app.errors import PROBLEM_TYPES, ProblemError

router = APIRouter()


@router.get(
    "/v1/evidence-levels",
    operation_id="listEvidenceLevels",
    tags=["reference"],
    summary="List evidence levels",
    responses=LIST_ERRORS,
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
    responses=LIST_ERRORS,
)
def list_problem_types() -> Response:
    """Every RFC 9457 problem `type` this service returns, with its status and meaning."""
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
    responses=responses("not-found"),
)
def get_problem_type(slug: str) -> Response:
    """What one problem `type` URI means."""
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
