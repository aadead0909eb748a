"""CDS Hooks JWT verification (CDS Hooks 2.0 §Trusting CDS Clients).

Only asymmetric algorithms are accepted (``none`` and HMAC are refused); the issuer must be on the
allowlist (settings: issuer -> JWKS file or URL); the key is the JWK with the header's ``kid``;
``aud`` must equal the URL of the endpoint invoked; ``exp`` and ``iat`` are checked with a small
leeway; ``jti`` is required, and single use is enforced by the caller against the store.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # PyJWT and cryptography cost ~8 MB a worker: loaded only when auth is configured
    from jwt import PyJWK, PyJWKSet

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
JWKS_TTL_SECONDS = 300.0


class CdsAuthError(Exception):
    """The call is not authenticated; the message says why (safe to show: no secrets)."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: str
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
                    raise CdsAuthError(f"the JWK Set of issuer '{issuer}' could not be read") from exc
                self._cache[issuer] = cached
        for key in cached[1].keys:
            if key.key_id == kid:
                return key
        raise CdsAuthError(f"no key with kid '{kid}' in the JWK Set of issuer '{issuer}'")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise CdsAuthError("an Authorization: Bearer JWT is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError("the Authorization header must be 'Bearer <JWT>'")
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
        raise CdsAuthError(
            f"algorithm '{algorithm}' is not accepted; use an asymmetric one (ES384 or RS384 recommended)"
        )
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        raise CdsAuthError("the JWT header's typ must be JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CdsAuthError("the JWT header needs a kid")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or issuer not in jwks.issuers:
        raise CdsAuthError("the issuer is not trusted")
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
