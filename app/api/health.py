"""Operations routes: liveness (``/healthz``), readiness (``/readyz``) and Prometheus ``/metrics``.

None of them is cached by the response cache (it covers ``/v1/`` and ``/fhir/`` only) and each answers
``Cache-Control: no-store`` so that no CDN or proxy keeps a stale answer.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app import migrate
from app.api.problems import responses
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, ProblemError, problem_body
from app.observability.metrics import CONTENT_TYPE, Metrics
from app.observability.readiness import check_readiness

router = APIRouter(tags=["operations"])

NO_STORE = {"Cache-Control": "no-store"}
_HEALTHY = orjson.dumps({"status": "ok"})
RETRY_AFTER = 5


class Health(BaseModel):
    """The process is alive and serving HTTP."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})
    status: Literal["ok"] = Field(description="Always `ok` when the process answers.")


class Check(BaseModel):
    """One readiness check: `ok`, `failed` (with a `reason`: unreachable, timed out, read-only, full, circuit
    breaker open), `skipped` when an earlier check failed, or `not-required` (writes on a read replica)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"status": "ok"}]})
    status: Literal["ok", "failed", "skipped", "not-required"] = Field(description="The outcome of the check.")


class Ready(BaseModel):
    """Every check passed: the store is reachable, migrated to head and loaded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": {"status": "ok", "dialect": "postgresql"},
                        "migrations": {"status": "ok", "current": "c1cds0000001", "head": "c1cds0000001"},
                        "content": {"status": "ok", "content_version": 1},
                        "writes": {"status": "ok"},
                    },
                }
            ]
        }
    )
    status: Literal["ready"] = Field(description="Always `ready` with status 200.")
    checks: dict[str, Check] = Field(
        description="`database`, `migrations`, `content` and `writes`, each with details (never an address)."
    )


def _json(body: bytes, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(body, status_code=status, media_type=media_type, headers=NO_STORE)


@router.get(
    "/healthz",
    operation_id="healthz",
    summary="Liveness",
    response_model=None,
    responses={200: {"model": Health, "description": "The process is alive."}},
)
async def healthz() -> Response:
    """Liveness: 200 while the process can answer HTTP. No I/O at all: a store outage does not make a
    replica *dead* (restarting it would not help); use `/readyz` to take it out of a load balancer."""
    return _json(_HEALTHY)


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness",
    response_model=None,
    responses={
        200: {"model": Ready, "description": "Ready to serve: every check passed."},
        **responses("not-ready"),
    },
)
def readyz(request: Request) -> Response:
    """Readiness: the database answers, its schema is at the latest migration, the curated content is
    loaded (content version above 0), the in-memory read model holds it, and the store takes writes (not read-only, not full; unless
    `LDNKB_READINESS_REQUIRES_WRITES` is false). Otherwise 503 `application/problem+json` of type
    `/problems/not-ready`, naming the failed checks in `detail` and carrying all of them in `checks`."""
    state = request.app.state
    head: str | None = getattr(state, "migrations_head", None)
    if head is None:
        head = migrate.head_revision() or migrate.alembic_head_revision(state.engine)
        state.migrations_head = head
    settings = state.settings
    result = check_readiness(
        state.engine,
        head,
        require_writes=settings.readiness_requires_writes,
        min_free_bytes=settings.store_min_free_bytes,
    )
    holder = getattr(state, "read_model", None)
    if holder is not None and result.checks.get("content", {}).get("status") == "ok":
        # Reads are answered from the in-memory read model: ready once it holds the content (built now if a
        # store that was away has just come back, rather than at the watcher's next turn).
        if holder.peek() is None:
            holder.try_check()
        model = holder.peek()
        result.checks["read_model"] = (
            {"status": "ok", "content_version": model.content_version}
            if model is not None
            else {"status": "failed", "reason": "not built yet"}
        )
    if result.ready:
        return _json(orjson.dumps({"status": "ready", "checks": result.checks}))
    body: dict[str, Any] = problem_body(
        PROBLEM_TYPES["not-ready"], f"Failed readiness checks: {', '.join(result.failed)}.", request.url.path
    )
    body["checks"] = result.checks
    response = _json(orjson.dumps(body), 503, PROBLEM_MEDIA_TYPE)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_model=None,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4.",
            "content": {
                CONTENT_TYPE: {"schema": {"type": "string"}, "example": "ldn_kb_http_requests_total{...} 1.0\n"}
            },
        },
        **responses("not-found"),
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route template, method and status; requests in flight;
    database pool use; content version; build info. With several workers, set `PROMETHEUS_MULTIPROC_DIR`
    so that every worker's counts are summed (see the README's Deployment section). With
    `LDNKB_METRICS_PORT` set, the metrics are served on that port only, and this path answers 404."""
    if request.app.state.settings.metrics_port:
        raise ProblemError("not-found", f"No route matches {request.url.path}.")
    return render_metrics(request.app)


def render_metrics(app: Any) -> Response:
    app.state.observer.flush()  # this worker's waiting requests, counted before rendering
    registry: Metrics = app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE, headers=NO_STORE)
