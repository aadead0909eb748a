"""CDS Hooks 2.0 services over the real app: discovery, cards, feedback, JWT verification."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm
from sqlalchemy import select
from sqlmodel import Session, col

from app.content.files import read_dataset
from app.main import create_app
from app.models import CdsFeedback, UsedJwtId
from app.services.cds_records import claim_jwt_id, jwt_id_key
from app.settings import Settings
from tests.integrations.fixtures.cds_requests import active, medication_request, order_select, order_sign

DATASET = read_dataset()
DRUG = next(d for d in DATASET.drugs if d.slug == "naltrexone")
RXCUI = next(i.value for i in DRUG.identifiers if i.system == "rxnorm")
SIGN = "/cds-services/ldn-kb-order-sign"
SELECT = "/cds-services/ldn-kb-order-select"
EMPTY = active()


def ldn_nightly() -> dict[str, Any]:
    return medication_request(
        "ldn-1", "naltrexone 4.5 MG by mouth nightly", rxnorm=RXCUI, dose_mg=4.5, timing_text="nightly"
    )


def oxycodone() -> dict[str, Any]:
    return medication_request("oxy-1", "oxycodone 5 MG Oral Tablet", dose_mg=5, frequency=4)


def test_discovery_lists_both_order_services(client: TestClient) -> None:
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign"}
    for service in services:
        assert service["id"] and service["description"] and service["title"]
        assert service["description"].endswith("Reference information, not medical advice.")  # audit 8


def test_ldn_with_oxycodone_gives_an_info_and_a_critical_card(client: TestClient) -> None:
    response = client.post(SIGN, json=order_sign(ldn_nightly(), oxycodone(), prefetch=EMPTY))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    indicators = [c["indicator"] for c in cards]
    assert indicators.count("info") == 1 and indicators.count("critical") == 1, cards
    for card in cards:
        assert len(card["summary"]) < 140
        assert card["source"]["label"] and card["source"]["url"].startswith("http")
        uuid.UUID(card["uuid"])
    info = next(c for c in cards if c["indicator"] == "info")
    assert "Low" in info["summary"] or "low" in info["summary"]
    critical = next(c for c in cards if c["indicator"] == "critical")
    assert "oxycodone" in critical["summary"].lower()


def test_opioid_recognised_by_atc_in_the_prefetch(client: TestClient) -> None:
    active = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": medication_request("m-9", "Brand X", atc="N02AA01", dose_mg=10)}],
    }
    cards = client.post(SIGN, json=order_sign(ldn_nightly(), prefetch={"activeMedications": active})).json()["cards"]
    assert "critical" in [c["indicator"] for c in cards]
    lofexidine = {
        "resourceType": "Bundle",
        "entry": [{"resource": medication_request("m-8", "Lofexidine", atc="N07BC04")}],
    }
    cards = client.post(SIGN, json=order_sign(ldn_nightly(), prefetch={"activeMedications": lofexidine})).json()[
        "cards"
    ]
    assert "critical" not in [c["indicator"] for c in cards]


def test_undocumented_dose_gets_a_warning(client: TestClient) -> None:
    order = medication_request("n-2", "naltrexone 10 MG", rxnorm=RXCUI, dose_mg=10)
    cards = client.post(SIGN, json=order_sign(order, prefetch=EMPTY)).json()["cards"]
    assert [c["indicator"] for c in cards] == ["warning"]


def test_naltrexone_recognised_by_name_and_order_select_uses_selections(client: TestClient) -> None:
    by_name = medication_request("n-3", "Naltrexone hydrochloride 50 MG Oral Tablet", dose_mg=50)
    cards = client.post(SIGN, json=order_sign(by_name, prefetch=EMPTY)).json()["cards"]
    assert [c["indicator"] for c in cards] == ["info"]
    # The opioid selected while naltrexone is drafted: the contraindication (issue 11: it was {"cards": []}).
    body = order_select(by_name, oxycodone(), selections=["MedicationRequest/oxy-1"])
    body["prefetch"] = EMPTY
    assert [c["indicator"] for c in client.post(SELECT, json=body).json()["cards"]] == ["critical"]
    body = order_select(by_name, oxycodone(), selections=["MedicationRequest/n-3"])
    body["prefetch"] = EMPTY
    indicators = [c["indicator"] for c in client.post(SELECT, json=body).json()["cards"]]
    assert indicators == ["critical", "info"]
    # A selection that is neither (its ATC code says so): nothing about naltrexone to say.
    lofexidine = medication_request("lof-1", "Lucemyra 0.18 MG Oral Tablet", atc="N07BC04", dose_mg=0.18)
    body = order_select(by_name, lofexidine, selections=["MedicationRequest/lof-1"])
    body["prefetch"] = EMPTY
    assert client.post(SELECT, json=body).json() == {"cards": []}
    # A selection named only, by a name the reference does not recognise: it could be an opioid brand the
    # reference does not list, so it is said not to be checked (never silently "not an opioid").
    amoxicillin = medication_request("amx-1", "amoxicillin 500 MG Oral Capsule", dose_mg=500)
    body = order_select(by_name, amoxicillin, selections=["MedicationRequest/amx-1"])
    body["prefetch"] = EMPTY
    cards = client.post(SELECT, json=body).json()["cards"]
    assert [c["indicator"] for c in cards] == ["warning"] and "amoxicillin" in cards[0]["detail"]


def test_no_naltrexone_no_cards(client: TestClient) -> None:
    assert client.post(SIGN, json=order_sign(oxycodone(), prefetch=EMPTY)).json() == {"cards": []}


def test_a_draft_entry_that_is_no_fhir_resource_is_a_400_never_dropped(client: TestClient) -> None:
    """Audit 9: beside an active opioid, a draft entry with no resourceType, a lower-case one, or a resource
    sent as a string was dropped and the answer was {"cards": []}. Each is a 400 problem naming the entry."""
    for bad in (
        {"medicationCodeableConcept": {"text": "naltrexone 4.5 mg"}},
        {"resourceType": "medicationrequest", "medicationCodeableConcept": {"text": "naltrexone 4.5 mg"}},
        "MedicationRequest naltrexone",
    ):
        for entry in ({"resource": bad}, {}):
            body = order_sign(ldn_nightly(), prefetch=EMPTY)
            body["context"]["draftOrders"]["entry"].append(entry)
            response = client.post(SIGN, json=body)
            assert response.status_code == 400, (bad, entry, response.text[:300])
            problem = response.json()
            assert problem["errors"][0]["field"] == "context.draftOrders.entry[1].resource", problem


def test_bad_requests(client: TestClient) -> None:
    assert client.post("/cds-services/nope", json=order_sign(ldn_nightly())).status_code == 404
    wrong_hook = order_sign(ldn_nightly())
    wrong_hook["hook"] = "patient-view"
    assert client.post(SIGN, json=wrong_hook).status_code == 400
    no_bundle = order_sign(ldn_nightly())
    no_bundle["context"]["draftOrders"] = "x"
    assert client.post(SIGN, json=no_bundle).status_code == 400
    missing = order_sign(ldn_nightly())
    del missing["hookInstance"]
    response = client.post(SIGN, json=missing)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")


REASON = {"code": "dose-confirmed", "system": "urn:ldn-kb:cds-override-reason", "display": "Dose confirmed"}


def _overridden(card: str, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-26T12:00:00Z",
        "overrideReason": {"reason": REASON, "userComment": "patient declined"},
    }
    item.update(changes)
    return {"feedback": [item]}


def _feedback_rows(app: Any, card: str) -> list[CdsFeedback]:
    with Session(app.state.engine) as session:
        return list(session.scalars(select(CdsFeedback).where(col(CdsFeedback.card) == card)).all())


def test_feedback_is_stored(client: TestClient, app: Any) -> None:
    card = client.post(SIGN, json=order_sign(ldn_nightly())).json()["cards"][0]["uuid"]
    response = client.post(f"{SIGN}/feedback", json=_overridden(card))
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 1}
    rows = _feedback_rows(app, card)
    assert len(rows) == 1 and rows[0].outcome == "overridden"
    assert rows[0].payload["overrideReason"] == {"reason": REASON, "userComment": "patient declined"}
    accepted = {
        "feedback": [
            {
                "card": card,
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
                "outcomeTimestamp": "2026-11-26T12:00:01.250+01:00",
            }
        ]
    }
    assert client.post(f"{SIGN}/feedback", json=accepted).status_code == 200
    assert len(_feedback_rows(app, card)) == 2


FEEDBACK_REJECTED: list[tuple[str, Any]] = [
    ("card only", {"feedback": [{"card": "c"}]}),
    ("extra field in an entry", _overridden("c", size="x" * 10)),
    ("extra top-level field", {**_overridden("c"), "note": "x"}),
    ("unknown outcome", _overridden("c", outcome="ignored")),
    ("accepted without acceptedSuggestions", _overridden("c", outcome="accepted", overrideReason=None)),
    (
        "accepted with an overrideReason",
        _overridden("c", outcome="accepted", acceptedSuggestions=[{"id": "s"}]),
    ),
    (
        "overridden without an overrideReason",
        {"feedback": [{k: v for k, v in _overridden("c")["feedback"][0].items() if k != "overrideReason"}]},
    ),
    ("overrideReason without a reason", _overridden("c", overrideReason={"userComment": "patient declined"})),
    ("reason without a system", _overridden("c", overrideReason={"reason": {"code": "x"}})),
    ("reason with an extra field", _overridden("c", overrideReason={"reason": {**REASON, "x": 1}})),
    (
        "acceptedSuggestions with an extra field",
        _overridden("c", outcome="accepted", overrideReason=None, acceptedSuggestions=[{"id": "s", "x": 1}]),
    ),
    ("timestamp without offset", _overridden("c", outcomeTimestamp="2026-11-26T12:00:00")),
    ("date only", _overridden("c", outcomeTimestamp="2026-11-26")),
    ("words", _overridden("c", outcomeTimestamp="yesterday")),
    ("month 13", _overridden("c", outcomeTimestamp="2026-13-26T12:00:00Z")),
    ("a number", _overridden("c", outcomeTimestamp=1764158400)),
    ("card not a string", _overridden(12345)),  # type: ignore[arg-type]
    ("empty list", {"feedback": []}),
    ("not an object", ["feedback"]),
    ("NUL character", _overridden("c\x00")),
]


@pytest.mark.parametrize(("name", "body"), FEEDBACK_REJECTED, ids=[n for n, _ in FEEDBACK_REJECTED])
def test_feedback_is_validated_to_the_spec(client: TestClient, app: Any, name: str, body: Any) -> None:
    response = client.post(f"{SIGN}/feedback", json=body)
    assert response.status_code == 422, (name, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"], name
    assert _feedback_rows(app, "c") == []


def test_feedback_bodies_that_do_not_parse(client: TestClient) -> None:
    for raw, status in ((b"{", 422), (b"", 422), (b"[" * 10_000 + b"]" * 10_000, 400)):
        response = client.post(f"{SIGN}/feedback", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == status, response.text[:200]
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.post("/cds-services/nope/feedback", json=_overridden("c")).status_code == 404


def test_feedback_can_be_switched_off(settings: Settings, client: TestClient, app: Any) -> None:
    off = settings.model_copy(update={"cds_feedback_enabled": False})
    with TestClient(create_app(off)) as closed:
        response = closed.post(f"{SIGN}/feedback", json=_overridden("switched-off"))
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    assert _feedback_rows(app, "switched-off") == []


def test_old_feedback_is_pruned(client: TestClient, app: Any) -> None:
    old = datetime.now(UTC) - timedelta(days=app.state.settings.cds_feedback_retention_days + 1)
    with Session(app.state.engine) as session:
        session.add(
            CdsFeedback(
                service_id="ldn-kb-order-sign", card="old-card", outcome="overridden", payload={}, received_at=old
            )
        )
        session.commit()
    assert len(_feedback_rows(app, "old-card")) == 1
    assert client.post(f"{SIGN}/feedback", json=_overridden("new-card")).status_code == 200
    assert _feedback_rows(app, "old-card") == []
    assert len(_feedback_rows(app, "new-card")) == 1


def test_used_jwt_ids_are_hashed_and_expired_ones_pruned(app: Any) -> None:
    prefix = "j" * 300
    now = int(time.time())
    with Session(app.state.engine) as session:
        assert claim_jwt_id(session, issuer=ISSUER, jti=prefix + "a", expires_at=now + 60)
        assert claim_jwt_id(session, issuer=ISSUER, jti=prefix + "b", expires_at=now + 60)  # no collision
        assert not claim_jwt_id(session, issuer=ISSUER, jti=prefix + "a", expires_at=now + 60)  # a replay
        assert claim_jwt_id(session, issuer=ISSUER, jti="stale", expires_at=now - 60)
        claim_jwt_id(session, issuer=ISSUER, jti="trigger", expires_at=now + 60)
        keys = set(session.scalars(select(col(UsedJwtId.jti))).all())
    assert jwt_id_key(ISSUER, "stale") not in keys
    assert jwt_id_key(ISSUER, prefix + "a") in keys and all(len(k) == 64 for k in keys)


# --- JWT verification -----------------------------------------------------------------------------

ISSUER = "https://ehr.example.org"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    private = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "key-1", "alg": "ES384", "use": "sig"})
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return private, path


@pytest.fixture(scope="module")
def secured(settings: Settings, keys: tuple[Any, Path], client: TestClient) -> Iterator[TestClient]:
    secured_settings = settings.model_copy(update={"cds_trusted_issuers": {ISSUER: str(keys[1])}})
    with TestClient(create_app(secured_settings)) as secured_client:
        yield secured_client


def _token(private: Any, *, aud: str, alg: str = "ES384", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), **overrides}
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": "key-1", "typ": "JWT"})


def test_a_valid_token_is_accepted_once(secured: TestClient, keys: tuple[Any, Path]) -> None:
    token = _token(keys[0], aud=f"http://testserver{SIGN}")
    headers = {"Authorization": f"Bearer {token}"}
    assert secured.post(SIGN, json=order_sign(ldn_nightly()), headers=headers).status_code == 200
    replay = secured.post(SIGN, json=order_sign(ldn_nightly()), headers=headers)
    assert replay.status_code == 401 and "jti" in replay.json()["detail"]


def test_bad_tokens_are_refused(secured: TestClient, keys: tuple[Any, Path]) -> None:
    aud = f"http://testserver{SIGN}"
    other = ec.generate_private_key(ec.SECP384R1())
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": aud, "exp": int(time.time()) + 60, "iat": int(time.time()), "jti": "x"},
        None,  # type: ignore[arg-type]  # an unsigned token, on purpose
        algorithm="none",
    )
    hmac = jwt.encode(
        {"iss": ISSUER, "aud": aud, "exp": int(time.time()) + 60, "iat": int(time.time()), "jti": "y"},
        "secret-secret-secret-secret-secret!",
        algorithm="HS256",
        headers={"kid": "key-1"},
    )
    cases = {
        "missing": None,
        "alg none": unsigned,
        "hmac": hmac,
        "wrong audience": _token(keys[0], aud="http://testserver/cds-services/other"),
        "expired": _token(keys[0], aud=aud, exp=int(time.time()) - 3600, iat=int(time.time()) - 4000),
        "issued in the future": _token(keys[0], aud=aud, iat=int(time.time()) + 3600),
        "untrusted issuer": _token(keys[0], aud=aud, iss="https://evil.example"),
        "wrong key": _token(other, aud=aud),
        "no jti": jwt.encode(
            {"iss": ISSUER, "aud": aud, "exp": int(time.time()) + 60, "iat": int(time.time())},
            keys[0],
            algorithm="ES384",
            headers={"kid": "key-1"},
        ),
    }
    for name, token in cases.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = secured.post(SIGN, json=order_sign(ldn_nightly()), headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert response.headers.get("www-authenticate") == "Bearer"
    assert secured.get("/cds-services").status_code == 401
    ok = _token(keys[0], aud="http://testserver/cds-services")
    assert secured.get("/cds-services", headers={"Authorization": f"Bearer {ok}"}).status_code == 200


def test_feedback_needs_a_token_before_its_body_is_read(secured: TestClient, keys: tuple[Any, Path]) -> None:
    feedback = f"{SIGN}/feedback"
    for path in (feedback, SIGN):
        for raw in (b"{not json", b"[" * 40, json.dumps(_overridden("c")).encode()):
            response = secured.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert response.status_code == 401, (path, response.text)
        # Nesting deeper than the request guard allows is refused while the body is read, before any route,
        # parser or credential check (app/api/limits.py): a 400 that says nothing about the token.
        deep = secured.post(path, content=b"[" * 10_000, headers={"Content-Type": "application/json"})
        assert deep.status_code == 400 and deep.json()["type"] == "/problems/json-too-deep"
    token = _token(keys[0], aud=f"http://testserver{feedback}")
    response = secured.post(feedback, json=_overridden("secured-card"), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
