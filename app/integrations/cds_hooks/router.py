"""CDS Hooks 2.0 endpoints: discovery, order-select / order-sign services, feedback (thin)."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session
from starlette.responses import Response

from app.api.problems import responses
from app.api.responses import base_url, dumps
from app.domain.disclaimer import SHORT_DISCLAIMER as DISCLAIMER
from app.errors import ProblemError
from app.integrations.cds_hooks import fhir_client
from app.integrations.cds_hooks.auth import CdsAuthError, JwksCache, bearer_token, verify_token
from app.integrations.cds_hooks.medications import Naltrexone, naltrexone_from_drug
from app.integrations.cds_hooks.service import decide, fill_gaps, gather
from app.readmodel import ReadModel
from app.readmodel.model import ModelKey
from app.services.cds_records import claim_jwt_id, store_feedback
from app.services.dose_check import DoseRequest, check_dose_in, model_drug
from app.services.record_warnings import build_warnings

router = APIRouter(prefix="/cds-services", tags=["cds hooks"])
_Body = TypeVar("_Body", bound=BaseModel)

PREFETCH = {
    "activeMedications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "activeStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "patient": "Patient/{{context.patientId}}",
}
_USAGE = (
    "draftOrders with MedicationRequest resources. The prefetch (active MedicationRequests and "
    "MedicationStatements, and the Patient) is optional: without it the active medications are read from "
    "fhirServer when one is given, and otherwise the card says they were not checked. The Patient's birthDate "
    "tells a child (under 18) from an adult: a child's dose is documented only by a range for children; "
    "without it the card says children's dosing was not considered."
)
SERVICES: dict[str, dict[str, Any]] = {
    "ldn-kb-order-select": {
        "hook": "order-select",
        "title": "Naltrexone dose and opioid check (order-select)",
        "description": "Places a selected naltrexone order's dose against the documented regimens (low-dose, "
        "standard oral, extended-release injectable) with their evidence, and warns when an opioid is "
        "selected, drafted or active together with naltrexone (the label's contraindication). " + DISCLAIMER,
        "id": "ldn-kb-order-select",
        "prefetch": PREFETCH,
        "usageRequirements": _USAGE,
    },
    "ldn-kb-order-sign": {
        "hook": "order-sign",
        "title": "Naltrexone dose and opioid check (order-sign)",
        "description": "At signing: the naltrexone orders' doses against the documented regimens, and the "
        "opioid contraindication when an opioid is ordered or active together with naltrexone. " + DISCLAIMER,
        "id": "ldn-kb-order-sign",
        "prefetch": PREFETCH,
        "usageRequirements": _USAGE,
    },
}


class CdsRequest(BaseModel):
    """A CDS Hooks 2.0 service request (fields this service reads; others are allowed and ignored)."""

    model_config = ConfigDict(extra="allow")
    hook: str = Field(
        description="The hook that triggered the call: the one the called service answers (see discovery).",
        json_schema_extra={"enum": sorted({service["hook"] for service in SERVICES.values()})},
    )
    hookInstance: str = Field(min_length=1, max_length=200, description="UUID of this hook instance.")
    fhirServer: str | None = Field(
        default=None,
        description="The EHR's FHIR base URL: read only for a referenced Medication the request does not "
        "carry, or the active medications when no prefetch is sent.",
    )
    fhirAuthorization: dict[str, Any] | None = Field(
        default=None, description="OAuth 2.0 bearer token for fhirServer (access_token, token_type, ...)."
    )
    context: dict[str, Any] = Field(
        description="Hook context: userId, patientId, draftOrders (, selections). Both hooks need `draftOrders`, a "
        "FHIR Bundle (without it, a 400).",
        json_schema_extra={
            "required": ["draftOrders"],
            "properties": {
                "draftOrders": {
                    "type": "object",
                    "required": ["resourceType"],
                    "properties": {"resourceType": {"const": "Bundle"}},
                }
            },
        },
    )
    prefetch: dict[str, Any] | None = Field(
        default=None, description="Optional activeMedications / activeStatements Bundles (null: none)."
    )


# --------------------------------------------------------------------------------------------------
# Feedback (CDS Hooks 2.0 §Feedback): validated to the specification, nothing more accepted.

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Coding(_Strict):
    """A CDS Hooks Coding: ``code`` and ``system`` required."""

    code: str = Field(min_length=1, max_length=200)
    system: str = Field(min_length=1, max_length=500)
    display: str | None = Field(default=None, min_length=1, max_length=500)


class OverrideReason(_Strict):
    reason: Coding = Field(description="The override reason the user chose (one of the card's overrideReasons).")
    userComment: str | None = Field(default=None, min_length=1, max_length=2000, description="Free text.")


class AcceptedSuggestion(_Strict):
    id: str = Field(min_length=1, max_length=120, description="The accepted suggestion's uuid.")


class FeedbackItem(_Strict):
    card: str = Field(min_length=1, max_length=120, description="The card's uuid.")
    outcome: Literal["accepted", "overridden"] = Field(description="What the user did.")
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(
        default=None, min_length=1, max_length=20, description="Required when the outcome is accepted."
    )
    overrideReason: OverrideReason | None = Field(default=None, description="Required when overridden.")
    outcomeTimestamp: str = Field(max_length=40, description="ISO 8601 (RFC 3339) time of the outcome, with offset.")

    @field_validator("outcomeTimestamp")
    @classmethod
    def _iso(cls, value: str) -> str:
        if not _RFC3339.match(value):
            raise ValueError("must be an ISO 8601 date-time with seconds and a UTC offset, e.g. 2026-11-26T12:00:00Z")
        try:
            datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise ValueError("is not a valid date-time") from None
        return value

    @model_validator(mode="after")
    def _outcome_fields(self) -> FeedbackItem:
        if self.outcome == "accepted":
            if not self.acceptedSuggestions:
                raise ValueError("an accepted outcome needs acceptedSuggestions")
            if self.overrideReason is not None:
                raise ValueError("overrideReason belongs to an overridden outcome")
        else:
            if self.overrideReason is None:
                raise ValueError("an overridden outcome needs an overrideReason")
            if self.acceptedSuggestions is not None:
                raise ValueError("acceptedSuggestions belong to an accepted outcome")
        return self


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class FeedbackRequest(_Strict):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100, description="Feedback entries.")

    @model_validator(mode="after")
    def _no_nul(self) -> FeedbackRequest:
        # Stored as JSON text; PostgreSQL rejects U+0000 in text (a 500 if it reached the database).
        if _has_nul(self.model_dump(mode="json")):
            raise ValueError("text must not contain the NUL character (U+0000)")
        return self


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` inlined (for the OpenAPI request body of a route that parses itself)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


FEEDBACK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _inline(FeedbackRequest.model_json_schema()),
                "example": {
                    "feedback": [
                        {
                            "card": "0f1b8a8e-6c7b-5b2a-9d55-1c2f7d1e9a3b",
                            "outcome": "overridden",
                            "overrideReason": {
                                "reason": {
                                    "code": "dose-confirmed",
                                    "system": "urn:ldn-kb:cds-override-reason",
                                    "display": "Dose confirmed with the prescriber",
                                },
                                "userComment": "Specialist plan, reviewed today.",
                            },
                            "outcomeTimestamp": "2026-11-26T12:00:00Z",
                        }
                    ]
                },
            }
        },
    }
}


# --------------------------------------------------------------------------------------------------
# Authentication


async def authenticate(request: Request) -> None:
    """When trusted issuers are configured, every call needs a valid, unused CDS Hooks JWT."""
    if request.app.state.settings.cds_trusted_issuers:
        await run_in_threadpool(_verify, request)


def _verify(request: Request) -> None:
    issuers: dict[str, str] = request.app.state.settings.cds_trusted_issuers
    cache: JwksCache | None = getattr(request.app.state, "cds_jwks", None)
    if cache is None:
        cache = request.app.state.cds_jwks = JwksCache(issuers)
    audience = f"{base_url(request)}{request.url.path}"
    try:
        token = verify_token(
            bearer_token(request.headers.get("authorization")),
            audience=audience,
            jwks=cache,
            leeway=request.app.state.settings.cds_jwt_leeway_seconds,
        )
    except CdsAuthError as exc:
        raise ProblemError(
            "unauthorized", str(exc).capitalize() + ".", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    with Session(request.app.state.engine) as session:
        fresh = claim_jwt_id(session, issuer=token.issuer, jti=token.jti, expires_at=token.expires_at)
    if not fresh:
        raise ProblemError("unauthorized", "The token's jti was already used.", headers={"WWW-Authenticate": "Bearer"})


AuthDep = Annotated[None, Depends(authenticate)]
ServiceId = Annotated[str, Path(max_length=120, description="The service id from discovery.")]


def _service(service_id: str) -> dict[str, Any]:
    service = SERVICES.get(service_id)
    if service is None:
        raise ProblemError("not-found", f"No CDS service '{service_id}'.")
    return service


@router.get("", operation_id="cdsDiscovery", summary="CDS Hooks discovery", responses=responses("unauthorized"))
def discovery(_auth: AuthDep) -> Response:
    """The services this server offers (CDS Hooks 2.0 discovery)."""
    return Response(dumps({"services": list(SERVICES.values())}), media_type="application/json")


CALL_EXAMPLE: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "hook": "order-sign",
    "context": {
        "userId": "PractitionerRole/123",
        "patientId": "1288992",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "id": "ldn-1",
                        "status": "draft",
                        "intent": "order",
                        "medicationCodeableConcept": {"text": "naltrexone 4.5 mg capsule (compounded)"},
                        "subject": {"reference": "Patient/1288992"},
                        "dosageInstruction": [
                            {
                                "timing": {
                                    "code": {
                                        "coding": [
                                            {
                                                "system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                                                "code": "QHS",
                                            }
                                        ]
                                    }
                                },
                                "route": {"text": "by mouth"},
                                "doseAndRate": [
                                    {
                                        "doseQuantity": {
                                            "value": 4.5,
                                            "unit": "mg",
                                            "system": "http://unitsofmeasure.org",
                                            "code": "mg",
                                        }
                                    }
                                ],
                            }
                        ],
                    }
                }
            ],
        },
    },
    "prefetch": {"activeMedications": None},
}
CALL_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(CdsRequest.model_json_schema()), "example": CALL_EXAMPLE}},
    }
}


@router.post(
    "/{service_id}",
    operation_id="cdsCall",
    summary="Call a CDS service",
    responses=responses("not-found", "bad-request", "validation-error", "unauthorized", "not-ready"),
    openapi_extra=CALL_BODY,
)
async def call_service(service_id: ServiceId, request: Request, _auth: AuthDep) -> Response:
    """Cards for the orders in `context.draftOrders` (order-select: the `selections`):

    - **critical**, one card, when naltrexone and an opioid meet in any direction: either one is being
      ordered while the other is drafted, selected or active (prefetch or `fhirServer`); recognised by ATC
      (N02A, N07BC but lofexidine), ingredient or brand name; with a suggestion to remove the draft order;
    - one card per naltrexone order with the dose decision (`info` documented by a checked source,
      `warning` otherwise or when the dose cannot be read, said in words);
    - **warning**, one card, listing the medications that could not be checked (a code the reference cannot
      classify; beside a naltrexone order, a name with no ATC code that names no opioid ingredient or brand
      the reference lists, since a brand it does not list cannot be ruled out; a Medication that could not
      be read; no active medication list).

    `{"cards": []}` when nothing applies. With JWT issuers configured, the token is checked before the
    body is read."""
    return await answer_call(service_id, parse_body(CdsRequest, await request.body()), request)


@dataclass(frozen=True, slots=True)
class _DrugFacts:
    """What every call reads of the drug record, read once per read model (it is the same for each call)."""

    naltrexone: Naltrexone
    contraindications: Sequence[dict[str, Any]]
    regimens: Mapping[str, dict[str, Any]]
    label_warnings: tuple[str, ...]


_DRUG_FACTS_KEPT = 8
_drug_facts_by_model: OrderedDict[ModelKey, _DrugFacts] = OrderedDict()


def _drug_facts(model: ReadModel) -> _DrugFacts | None:
    """The drug record's facts for ``model`` (one store and content version), or None without the drug."""
    facts = _drug_facts_by_model.get(model.key)
    if facts is None:
        drug = model_drug(model)
        if drug is None:
            return None
        facts = _DrugFacts(
            naltrexone_from_drug(drug),
            drug.get("contraindications") or [],
            {r["slug"]: r for r in drug.get("regimens") or []},
            tuple(w["title"] for w in build_warnings(drug)),
        )
        _drug_facts_by_model[model.key] = facts
        while len(_drug_facts_by_model) > _DRUG_FACTS_KEPT:
            _drug_facts_by_model.popitem(last=False)
    return facts


_RESOURCE_TYPE: Final = re.compile(r"[A-Z][A-Za-z]{1,63}")


def _check_draft_entries(draft: dict[str, Any]) -> None:
    """Every draft entry is a FHIR resource (an object with a resource type): one that is not cannot be read,
    and dropping it would leave its order unchecked without a word."""
    entries = draft.get("entry", [])
    bad = [
        n
        for n, item in enumerate(entries if isinstance(entries, list) else [None])
        if not isinstance(item, dict)
        or not isinstance(item.get("resource"), dict)
        or not _RESOURCE_TYPE.fullmatch(str(item["resource"].get("resourceType", "")))
    ]
    if bad:
        raise ProblemError(
            "bad-request",
            "Every entry of context.draftOrders must hold a FHIR resource (an object with a resourceType).",
            errors=[
                {"field": f"context.draftOrders.entry[{n}].resource", "in": "body", "message": "not a FHIR resource"}
                for n in bad
            ],
        )


async def answer_call(service_id: str, body: CdsRequest, request: Request, model: ReadModel | None = None) -> Response:
    """The service call's answer (shared with :mod:`app.integrations.cds_hooks.shortcut`), from ``model`` when
    the caller holds it, else from the app's read model."""
    service = _service(service_id)
    if body.hook != service["hook"]:
        raise ProblemError(
            "bad-request", f"Service '{service_id}' answers the {service['hook']} hook, not {body.hook}."
        )
    draft = body.context.get("draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise ProblemError(
            "bad-request",
            "context.draftOrders must be a FHIR Bundle of draft orders.",
            errors=[{"field": "context.draftOrders", "in": "body", "message": "a FHIR Bundle is required"}],
        )
    _check_draft_entries(draft)
    settings = request.app.state.settings
    gathered = gather(service["hook"], body.context, body.prefetch)
    fhir, fhir_unread = fhir_client.access(
        body.fhirServer,
        body.fhirAuthorization,
        timeout=settings.cds_fhir_timeout_seconds,
        servers=settings.cds_fhir_servers if settings.cds_fhir_fetch_enabled else None,
    )
    gathered = await fill_gaps(gathered, fhir, patient_id=body.context.get("patientId"))
    if model is None:
        model = await request.app.state.read_model.get()  # the app's read model: no store query per call
    facts = _drug_facts(model)
    if facts is None:  # never an empty answer that reads as "nothing to say"
        raise ProblemError("not-ready", "The naltrexone knowledge is not loaded; no decision support given.")

    def check(dose: DoseRequest) -> dict[str, Any]:
        return check_dose_in(model, dose)

    cards = decide(
        gathered,
        facts.naltrexone,
        facts.contraindications,
        check,
        regimens=facts.regimens,
        label_warnings=facts.label_warnings,
        hook_instance=body.hookInstance,
        base_url=base_url(request),
        fhir_unread=fhir_unread,
    )
    return Response(dumps({"cards": cards}), media_type="application/json")


# --------------------------------------------------------------------------------------------------
# Feedback


def parse_body(model: type[_Body], raw: bytes) -> _Body:
    """The JSON body as ``model``, read only after authentication; FastAPI's 422 shape for what does not fit."""
    try:
        parsed = json.loads(raw)
    except RecursionError:  # as the shortcut answers it: a 400 problem, never a 500
        raise ProblemError("bad-request", "The JSON body nests too deeply to be read.") from None
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not valid JSON."}]
        ) from None
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        errors = [
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


@router.post(
    "/{service_id}/feedback",
    operation_id="cdsFeedback",
    summary="Send feedback on cards",
    responses=responses("not-found", "bad-request", "validation-error", "unauthorized"),
    openapi_extra=FEEDBACK_BODY,
)
async def feedback(service_id: ServiceId, request: Request, _auth: AuthDep) -> Response:
    """Stores what the client reports about the cards (CDS Hooks 2.0 feedback) and answers 200.

    Each entry: `card` (the card's uuid), `outcome` `accepted` (with `acceptedSuggestions`) or
    `overridden` (with `overrideReason.reason`, a Coding, and an optional `userComment`), and
    `outcomeTimestamp` (ISO 8601 with offset). Nothing else is accepted (422). When JWT issuers are
    configured the token is checked before the body is read. `LDNKB_CDS_FEEDBACK_ENABLED=false` turns
    the endpoint off (404); entries older than `LDNKB_CDS_FEEDBACK_RETENTION_DAYS` are deleted."""
    settings = request.app.state.settings
    if not settings.cds_feedback_enabled:
        raise ProblemError("not-found", "Feedback is not accepted by this server.")
    _service(service_id)
    body = parse_body(FeedbackRequest, await request.body())
    items = [item.model_dump(mode="json", exclude_none=True) for item in body.feedback]

    def store() -> int:
        with Session(request.app.state.engine) as session:
            return store_feedback(
                session, service_id=service_id, items=items, retention_days=settings.cds_feedback_retention_days
            )

    count = await run_in_threadpool(store)
    return Response(dumps({"stored": count}), media_type="application/json")
