"""FHIR Bulk Data export at system level (``$export``): kick-off, status, output files, cancel.

The flow of the Bulk Data Access IG: ``GET /fhir/R4/$export`` with ``Prefer: respond-async`` answers 202
with a ``Content-Location`` to poll; the status answers 202 (``X-Progress``, ``Retry-After``) until the
output is ready, then 200 with the manifest (``transactionTime``, ``request``, ``requiresAccessToken``,
``output[]`` of ``{type, url, count}``, ``error[]``); each output is NDJSON (``application/fhir+ndjson``);
``DELETE`` on the status URL cancels (202), after which the status is a 404.

Jobs hold no state: the job id names the content version, the resource types and ``_since``, so any
replica or worker answers any poll from its own read of the same content (the dataset is small: a job is
complete when it is first polled). A job of an older content version is gone (404: start again).
Cancellation is remembered per app instance (a process).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import allow_any_query_parameters
from app.api.read_model import ReadModelDep
from app.api.responses import base_url
from app.integrations.fhir.catalogue import catalogues
from app.integrations.fhir.errors import FHIR_JSON, FhirError
from app.integrations.fhir.extensions import FHIR_PATH
from app.readmodel.model import ReadModel

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
MANIFEST_JSON = "application/json"
KNOWN_PARAMETERS = {"_outputFormat", "_type", "_since", "_typeFilter", "_elements", "patient", "includeAssociatedData"}


router = APIRouter(prefix=FHIR_PATH, tags=["fhir"])
_cancel_lock = threading.Lock()


def _cancelled(request: Request) -> set[str]:
    """The jobs cancelled in this app (per app, never module-global)."""
    found: set[str] | None = getattr(request.app.state, "bulk_cancelled", None)
    if found is None:
        with _cancel_lock:
            found = getattr(request.app.state, "bulk_cancelled", None)
            if found is None:
                found = request.app.state.bulk_cancelled = set()
    return found


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OperationOutcome responses (400 covers a malformed job id or parameter; every route can 500)."""
    return {
        s: {"description": "OperationOutcome", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
        for s in (*statuses, 400, 406, 500)
    }


def _resources(request: Request, model: ReadModel) -> Mapping[str, Mapping[str, dict[str, Any]]]:
    """The FHIR resources the facade serves, by type (from the app's FHIR catalogue of ``model``)."""
    cat = catalogues(request.app).get(model)
    return {
        "MedicationKnowledge": cat.medication_knowledge,
        "StructureDefinition": cat.structure_definitions,
        "CodeSystem": cat.code_systems,
        "ValueSet": cat.value_sets,
    }


def encode_job(version: int, types: list[str], since: str | None) -> str:
    """A job id: the content version, types and ``_since``, and a nonce so each kick-off is its own job."""
    raw = orjson.dumps({"v": version, "t": types, "s": since, "n": secrets.token_hex(6)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_job(job: str) -> tuple[int, list[str], str | None]:
    gone = FhirError(404, "not-found", "No such export job (unknown, cancelled, or of an older content version).")
    if len(job) > 400 or not job.isascii():
        raise gone
    try:
        data = orjson.loads(base64.urlsafe_b64decode(job + "=" * (-len(job) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise gone from None
    if not isinstance(data, dict):
        raise gone
    version, types, since = data.get("v"), data.get("t"), data.get("s")
    if not isinstance(version, int) or not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise gone
    if since is not None and not isinstance(since, str):
        raise gone
    return version, types, since


def _parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value.isascii() else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FhirError(400, "invalid", "_since must be a FHIR instant with a time zone, e.g. 2026-01-01T00:00:00Z.")
    return moment


def _utc(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands back naive UTC times)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _selected(
    resources: Mapping[str, Mapping[str, dict[str, Any]]],
    types: list[str],
    since: str | None,
    loaded: datetime | None,
) -> dict[str, list[dict[str, Any]]]:
    """The resources of ``types`` changed after ``since`` (a resource without ``meta.lastUpdated`` counts as
    changed when its content version was loaded, ``loaded``)."""
    after = _parse_since(since) if since else None
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in types:
        chosen = []
        for ident in sorted(resources.get(kind, {})):
            resource = resources[kind][ident]
            stamp = resource.get("meta", {}).get("lastUpdated")
            moment = _utc(datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else loaded)
            if after is not None and moment is not None and moment <= after:
                continue
            chosen.append(resource)
        out[kind] = chosen
    return out


def _job_or_404(request: Request, model: ReadModel, job: str) -> tuple[int, list[str], str | None]:
    version, types, since = decode_job(job)
    cancelled_jobs = _cancelled(request)
    with _cancel_lock:
        cancelled = job in cancelled_jobs
    if cancelled or version != model.content_version:
        raise FhirError(404, "not-found", "No such export job (unknown, cancelled, or of an older content version).")
    return version, types, since


@router.get(
    "/$export",
    operation_id="fhirBulkExportKickOff",
    response_class=Response,
    summary="Start a FHIR Bulk Data export (system level)",
    description="Kick-off of the FHIR Bulk Data Access flow: send `Prefer: respond-async` (required) and "
    "optionally `_type` (comma-separated resource types), `_since` (an instant) and `_outputFormat` "
    "(`application/fhir+ndjson`). Answers 202 with `Content-Location`, the status URL to poll.",
    status_code=202,
    responses={202: {"description": "Accepted: poll the URL in Content-Location."}, **_errors()},
    openapi_extra={
        "x-allow-extra-query-parameters": True,
        # Read from the raw headers (it may carry other preferences); documented here as the IG requires it.
        "parameters": [
            {
                "name": "Prefer",
                "in": "header",
                "required": True,
                "description": "`respond-async`: the Bulk Data kick-off is asynchronous (without it, a 400).",
                "schema": {"type": "string", "enum": ["respond-async"]},
            }
        ],
    },
)
@allow_any_query_parameters
def kick_off(request: Request, model: ReadModelDep) -> Response:
    prefer = request.headers.get("prefer", "")
    if "respond-async" not in prefer.replace(" ", "").split(","):
        raise FhirError(400, "invalid", "The $export kick-off needs the header 'Prefer: respond-async'.")
    params = list(request.query_params.multi_items())
    unknown = sorted({k for k, _ in params if k not in KNOWN_PARAMETERS and k not in {"_format"}})
    if unknown:
        raise FhirError(400, "not-supported", f"Unknown $export parameter(s): {', '.join(unknown)[:200]}.")
    values = dict(params)
    fmt = values.get("_outputFormat")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise FhirError(400, "not-supported", "_outputFormat: only application/fhir+ndjson is produced.")
    for unsupported in ("_typeFilter", "_elements", "patient", "includeAssociatedData"):
        if unsupported in values:
            raise FhirError(400, "not-supported", f"{unsupported} is not supported by this server's $export.")
    available = _resources(request, model)
    types = sorted(available)
    if values.get("_type"):
        asked = [t.strip() for t in values["_type"].split(",") if t.strip()]
        unknown_types = [t for t in asked if t not in available]
        if unknown_types:
            raise FhirError(
                400,
                "not-supported",
                f"_type: this server exports {', '.join(types)}; not {', '.join(unknown_types)[:200]}.",
            )
        types = sorted(set(asked))
    since = values.get("_since")
    if since:
        _parse_since(since)
    job = encode_job(model.content_version, types, since)
    status_url = f"{base_url(request)}{FHIR_PATH}/$export-status/{job}"
    return Response(status_code=202, headers={"Content-Location": status_url, "Cache-Control": "no-store"})


JobPath = Annotated[str, Path(max_length=400, description="The job id from the kick-off's Content-Location.")]


@router.get(
    "/$export-status/{job}",
    operation_id="fhirBulkExportStatus",
    response_class=Response,
    summary="Poll a FHIR Bulk Data export",
    description="202 while in progress (`X-Progress`, `Retry-After`); 200 with the manifest when complete "
    "(`transactionTime`, `request`, `requiresAccessToken`, `output[]`, `error[]`); 404 for an unknown, "
    "cancelled or outdated job.",
    responses={200: {"description": "The export manifest.", "content": {MANIFEST_JSON: {}}}, **_errors(404)},
)
def status(request: Request, model: ReadModelDep, job: JobPath) -> Response:
    _version, types, since = _job_or_404(request, model, job)
    info = model.info
    chosen = _selected(_resources(request, model), types, since, info.last_updated)
    base = f"{base_url(request)}{FHIR_PATH}"
    query = [f"_type={','.join(types)}"] + ([f"_since={since}"] if since else [])
    moment = _utc(info.last_updated) or datetime.now(UTC)
    transaction = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    manifest = {
        "transactionTime": transaction,
        "request": f"{base}/$export?{'&'.join(query)}",
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{base}/$export-output/{job}/{kind}.ndjson", "count": len(items)}
            for kind, items in chosen.items()
            if items
        ],
        "error": [],
    }
    return Response(
        orjson.dumps(manifest),
        media_type=MANIFEST_JSON,
        headers={"Cache-Control": "no-store", "X-Progress": "complete"},
    )


@router.delete(
    "/$export-status/{job}",
    operation_id="fhirBulkExportCancel",
    response_class=Response,
    summary="Cancel a FHIR Bulk Data export",
    description="Cancels the job: 202, after which its status and outputs are 404.",
    status_code=202,
    responses={202: {"description": "Cancelled."}, **_errors(404)},
)
def cancel(request: Request, model: ReadModelDep, job: JobPath) -> Response:
    _job_or_404(request, model, job)
    cancelled = _cancelled(request)
    with _cancel_lock:
        if len(cancelled) > 10_000:  # bounded: the oldest jobs are of older versions, gone anyway
            cancelled.clear()
        cancelled.add(job)
    return Response(status_code=202, headers={"Cache-Control": "no-store"})


@router.get(
    "/$export-output/{job}/{kind}.ndjson",
    operation_id="fhirBulkExportOutput",
    response_class=Response,
    summary="Download one output file of a FHIR Bulk Data export",
    description="One resource per line (`application/fhir+ndjson`), as listed in the job's manifest.",
    responses={200: {"description": "NDJSON.", "content": {NDJSON: {"schema": {"type": "string"}}}}, **_errors(404)},
)
def output(
    request: Request,
    model: ReadModelDep,
    job: JobPath,
    kind: Annotated[str, Path(pattern="^[A-Za-z]{1,64}$", description="A resource type of the job.")],
) -> Response:
    _version, types, since = _job_or_404(request, model, job)
    if kind not in types:
        raise FhirError(404, "not-found", f"The job has no output of type {kind}.")
    loaded = model.info.last_updated
    items = _selected(_resources(request, model), [kind], since, loaded)[kind]
    body = b"".join(orjson.dumps(r) + b"\n" for r in items)
    return Response(body, media_type=NDJSON, headers={"Cache-Control": "no-store"})
