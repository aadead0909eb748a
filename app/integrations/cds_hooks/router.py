"""CDS Hooks 2.0 endpoints: discovery, order-select / order-sign services, feedback (thin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session
from starlette.responses import Response

from app.api.deps import SessionDep
from app.api.problems import responses
from app.api.responses import base_url, dumps
from app.domain.dosing import DoseInputError
from app.errors import ProblemError
from app.integrations.cds_hooks.auth import CdsAuthError, JwksCache, bearer_token, verify_token
from app.integrations.cds_hooks.cards import dose_cards, opioid_card
from app.integrations.cds_hooks.orders import DraftMedication, is_naltrexone, medication_requests, opioid_in
from app.services.cds_records import claim_jwt_id, store_feedback
from app.services.dose_check import DoseRequest, check_dose, snapshot_drug

router = APIRouter(prefix="/cds-services", tags=["cds hooks"])

PREFETCH = {"activeMedications": "MedicationRequest?patient={{context.patientId}}&status=active"}
SERVICES: dict[str, dict[str, Any]] = {
    "ldn-kb-order-select": {
        "hook": "order-select",
        "title": "Naltrexone dose and opioid check (order-select)",
        "description": "Places a selected naltrexone order's dose against the documented regimens (low-dose, "
        "standard oral, extended-release injectable) with their evidence, and warns when the orders also "
        "hold an opioid (the label's contraindication).",
        "id": "ldn-kb-order-select",
        "prefetch": PREFETCH,
        "usageRequirements": "draftOrders with MedicationRequest resources; the prefetch is optional.",
    },
    "ldn-kb-order-sign": {
        "hook": "order-sign",
        "title": "Naltrexone dose and opioid check (order-sign)",
        "description": "At signing: the naltrexone orders' doses against the documented regimens, and the "
        "opioid contraindication when the orders (or the active medications) hold an opioid.",
        "id": "ldn-kb-order-sign",
        "prefetch": PREFETCH,
        "usageRequirements": "draftOrders with MedicationRequest resources; the prefetch is optional.",
    },
}


class CdsRequest(BaseModel):
    """A CDS Hooks 2.0 service request (fields this service reads; others are allowed and ignored)."""

    model_config = ConfigDict(extra="allow")
    hook: str = Field(description="The hook that triggered the call.")
    hookInstance: str = Field(min_length=1, max_length=200, description="UUID of this hook instance.")
    fhirServer: str | None = Field(default=None, description="Unused: this service needs no FHIR access.")
    context: dict[str, Any] = Field(description="Hook context: userId, patientId, draftOrders (, selections).")
    prefetch: dict[str, Any] | None = Field(default=None, description="Optional activeMedications Bundle.")


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    card: str = Field(min_length=1, max_length=120, description="The card's uuid.")
    outcome: Literal["accepted", "overridden"] = Field(description="What the user did.")
    outcomeTimestamp: str = Field(min_length=1, max_length=64, description="ISO 8601 UTC time of the outcome.")
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: dict[str, Any] | None = None


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class FeedbackRequest(BaseModel):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100, description="Feedback entries.")

    @model_validator(mode="after")
    def _no_nul(self) -> FeedbackRequest:
        # Stored as JSON text; PostgreSQL rejects U+0000 in text (a 500 if it reached the database).
        if _has_nul(self.model_dump(mode="json")):
            raise ValueError("text must not contain the NUL character (U+0000)")
        return self


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


def _dose_request(medication: DraftMedication) -> DoseRequest:
    dose = medication.dose
    return DoseRequest(amount=dose.amount, unit=dose.unit, frequency=dose.frequency, route=dose.route)


@router.post(
    "/{service_id}",
    operation_id="cdsCall",
    summary="Call a CDS service",
    responses=responses("not-found", "bad-request", "validation-error", "unauthorized"),
)
async def call_service(service_id: ServiceId, body: CdsRequest, request: Request, _auth: AuthDep) -> Response:
    """Cards for the naltrexone orders in `context.draftOrders`: an info card with the regimen and its evidence,
    a warning card when the dose lies in no documented regimen or above every one, and a critical card when
    the orders (or the prefetched active medications) hold an opioid. `{"cards": []}` when nothing applies."""
    return answer_call(service_id, body, request)


def answer_call(service_id: str, body: CdsRequest, request: Request) -> Response:
    """The service call's answer (shared with :mod:`app.integrations.cds_hooks.shortcut`)."""
    with Session(request.app.state.engine) as session:  # connects only on a snapshot miss
        return _cards(service_id, body, request, session)


def _cards(service_id: str, body: CdsRequest, request: Request, session: Session) -> Response:
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
    orders = medication_requests(draft)
    if service["hook"] == "order-select":
        selections = body.context.get("selections")
        if isinstance(selections, list) and selections:
            chosen = {str(s) for s in selections}
            orders_considered = [o for o in orders if o.resource_id in chosen]
        else:
            orders_considered = orders
    else:
        orders_considered = orders
    version: int = request.app.state.content_version.current()
    drug = snapshot_drug(session, content_version=version)
    if drug is None:
        return Response(dumps({"cards": []}), media_type="application/json")
    codes = [i["value"] for i in drug["identifiers"] if i["system"] == "rxnorm"]
    names = [drug["name"], *drug["synonyms"]]
    naltrexone = [o for o in orders_considered if is_naltrexone(o, codes, names)]
    if not naltrexone:
        return Response(dumps({"cards": []}), media_type="application/json")
    base = base_url(request)
    cards: list[dict[str, Any]] = []
    contraindications = [{"message": c["text"], "source": c["source"]["slug"]} for c in drug["contraindications"]]
    for order in naltrexone:
        try:
            result = check_dose(session, _dose_request(order), content_version=version)
        except DoseInputError as exc:
            summary = f"{order.name}: dose not assessed ({exc.field}: {exc.message})"
            source = {"label": "ldn-kb naltrexone knowledge base", "url": f"{base}/docs"}
            cards.append({"summary": summary[:139], "indicator": "info", "source": source})
            continue
        cards += dose_cards(
            result,
            medication_id=order.resource_id,
            medication_name=order.name,
            hook_instance=body.hookInstance,
            base_url=base,
        )
    others = [o for o in orders if not is_naltrexone(o, codes, names)]
    prefetched = (body.prefetch or {}).get("activeMedications")
    others += [o for o in medication_requests(prefetched) if not is_naltrexone(o, codes, names)]
    for other in others:
        finding = opioid_in(other)
        if finding is not None:
            cards.append(
                opioid_card(
                    finding,
                    contraindications,
                    medication_id=naltrexone[0].resource_id,
                    hook_instance=body.hookInstance,
                    base_url=base,
                )
            )
    return Response(dumps({"cards": cards}), media_type="application/json")


@router.post(
    "/{service_id}/feedback",
    operation_id="cdsFeedback",
    summary="Send feedback on cards",
    responses=responses("not-found", "bad-request", "validation-error", "unauthorized"),
)
def feedback(service_id: ServiceId, body: FeedbackRequest, session: SessionDep, _auth: AuthDep) -> Response:
    """Stores what the client reports about the cards (accepted or overridden) and answers 200."""
    _service(service_id)
    count = store_feedback(
        session, service_id=service_id, items=[item.model_dump(mode="json") for item in body.feedback]
    )
    return Response(dumps({"stored": count}), media_type="application/json")
