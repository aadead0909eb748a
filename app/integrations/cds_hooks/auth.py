"""CDS Hooks JWT verification (CDS Hooks 2.0 §Trusting CDS Clients).

Only asymmetric algorithms are accepted (``none`` and HMAC are refused); the issuer must be on the
allowlist (settings: issuer -> JWKS file or URL); the key is the JWK with the header's ``kid``;
``aud`` must equal the URL of the endpoint invoked (under ``LDNKB_PUBLIC_BASE_URL`` when it is set, never
a host the caller names); ``exp`` and ``iat`` must be numbers and are checked with a small leeway; ``jti`` is
required and non-empty, and single use is enforced by the caller against the store, under a digest of
issuer and jti (:attr:`VerifiedToken.jti`: fixed length, so long distinct jtis never collide).

Every refusal gives the caller the same words (:data:`PUBLIC_DETAIL`): which issuers are trusted, which
key ids they have, and which check failed are not the caller's to learn. The reason goes to the log
(without the token, and without the key id, which the caller chose).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # PyJWT and cryptography cost ~8 MB a worker: loaded only when auth is configured
    from jwt import PyJWK, PyJWKSet

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
JWKS_TTL_SECONDS = 300.0
#: What every refused caller is told.
PUBLIC_DETAIL = "authentication required: a valid bearer token signed by a trusted issuer"

log = logging.getLogger("ldn_kb.cds_auth")


class CdsAuthError(Exception):
    """The call is not authenticated. ``str()`` is :data:`PUBLIC_DETAIL`; :attr:`reason` (logged, never
    answered) says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(PUBLIC_DETAIL)
        self.reason = reason
        log.info("CDS Hooks JWT refused: %s", reason)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: str
    #: SHA-256 (hex) of issuer and jti: the key of single use.
    jti: str
    expires_at: int
    claims: dict[str, Any]


class JwksCache:
    """JWK Sets per issuer, from a file path or an https URL, cached for a few minutes."""

    def __init__(self, issuers: dict[str, str]) -> None:
        self.issuers = issuers
        self._cache: dict[str, tuple[float, PyJWKSet]] = {}
        self._lock = threading.Lock()

    def _load(self, location: str) -> PyJWKSet:
        import httpx
        from jwt import PyJWKSet

        if location.startswith(("https://", "http://")):
            response = httpx.get(location, timeout=5.0)
            response.raise_for_status()
            data = response.json()
        else:
            data = json.loads(Path(location).read_text(encoding="utf-8"))
        return PyJWKSet.from_dict(data)

    def key(self, issuer: str, kid: str) -> PyJWK:
        import httpx
        import jwt

        location = self.issuers[issuer]
        with self._lock:
            cached = self._cache.get(issuer)
            if cached is None or time.monotonic() - cached[0] > JWKS_TTL_SECONDS:
                try:
                    cached = (time.monotonic(), self._load(location))
                except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as exc:
                    raise CdsAuthError("the JWK Set of a trusted issuer could not be read") from exc
                self._cache[issuer] = cached
        for key in cached[1].keys:
            if key.key_id == kid:
                return key
        raise CdsAuthError("no key with the token's kid in the issuer's JWK Set")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise CdsAuthError("an Authorization: Bearer JWT is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError("the Authorization header is not 'Bearer <JWT>'")
    return token.strip()


def verify_token(token: str, *, audience: str, jwks: JwksCache, leeway: int) -> VerifiedToken:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise CdsAuthError("the token is not a well-formed JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise CdsAuthError("the algorithm is not an accepted asymmetric one")
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        raise CdsAuthError("the JWT header's typ must be JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CdsAuthError("the JWT header needs a kid")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or issuer not in jwks.issuers:
        raise CdsAuthError("the issuer is not trusted")
    for claim in ("exp", "iat", "nbf"):
        value = unverified.get(claim)
        if claim in unverified and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CdsAuthError(f"the '{claim}' claim is not a number")
    jti = unverified.get("jti")
    if "jti" in unverified and (not isinstance(jti, str) or not jti.strip()):
        raise CdsAuthError("the 'jti' claim is empty or not a string")
    key = jwks.key(issuer, kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise CdsAuthError("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise CdsAuthError("the token was issued in the future") from None
    except jwt.InvalidAudienceError:
        raise CdsAuthError("the token's aud is not the URL of this endpoint") from None
    except jwt.MissingRequiredClaimError as exc:
        raise CdsAuthError(f"the token lacks the '{exc.claim}' claim") from None
    except jwt.PyJWTError:
        raise CdsAuthError("the token's signature or claims are invalid") from None
    if int(claims["iat"]) > int(time.time()) + leeway:
        raise CdsAuthError("the token was issued in the future")
    return VerifiedToken(issuer=issuer, jti=str(claims["jti"]), expires_at=int(claims["exp"]), claims=claims)
