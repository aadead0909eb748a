"""CORS for browser clients: on by default for the public read API, CDS Hooks as its guidance asks.

The service holds public reference information and never uses cookies or HTTP authentication for it, so
the default is ``Access-Control-Allow-Origin: *`` without credentials. Then the CORS headers of an answer
depend on its path only, never on the request's ``Origin``: they are built once per path family, and the
front door adds the same ones to cache hits and 304s (:meth:`CorsPolicy.static_headers`). With a list of
origins (``LDNKB_CORS_ORIGINS``) the allowed origin is echoed and ``Vary: Origin`` added (by the security
headers); an empty list turns CORS off.

Families (outside them, no CORS header at all; ``/metrics``, ``/healthz`` and ``/readyz`` are for the
platform, not for browsers):

* reads: ``/v1``, ``/fhir``, ``/infobutton``, ``/pages``, ``/problems``, the docs and ``openapi.json``,
  the index ``/``: GET and HEAD, plus POST on the read-only queries sent as POST (dose check, FHIR
  ``_search``);
* CDS Hooks (``/cds-services``): discovery (GET) and service and feedback calls (POST). The CDS Hooks
  specification says "CDS Services and browser-based CDS Clients will require CORS support"; a client
  sends its JWT in ``Authorization``, which a wildcard never covers, so that header is allowed by name.

Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered here, 204, before routing;
a plain ``OPTIONS`` on these paths gets 204 with ``Allow`` naming the methods the app's routes serve at
that very path (``DELETE`` on an export job, ``POST`` only on a CDS service), as RFC 9110 asks of ``Allow``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import allowed_methods

Headers = list[tuple[bytes, bytes]]

#: Response headers a browser script may read: caching, paging, tracing, auth challenges, rate limits.
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Location",
    "Content-Location",
    "X-Request-ID",
    "WWW-Authenticate",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
_EXPOSED = ", ".join(EXPOSED_HEADERS).encode()
#: Request headers named (beside the ``*`` wildcard, for browsers that predate it).
READ_REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-None-Match",
    "If-Modified-Since",
    "Cache-Control",
    "X-Request-ID",
)
#: How long a browser may keep a preflight's answer (Chromium caps it at 2 hours).
MAX_AGE = 7200

READ_PREFIXES = (
    "/v1",
    "/fhir",
    "/infobutton",
    "/pages",
    "/problems",
    "/docs",
    "/docs-static",
    "/redoc",
    "/openapi.json",
)
CDS_PREFIX = "/cds-services"
#: Read-only queries sent as POST (their answers depend on the body only; nothing is written).
READ_POSTS = frozenset({"/v1/dose-check", "/fhir/R4/MedicationKnowledge/_search"})


#: Paths whose static headers are remembered (each answer made at the door or stored asks, twice).
STATIC_MEMO_MAX = 1024


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class Family:
    methods: tuple[str, ...]
    request_headers: tuple[str, ...]


READ = Family(("GET", "HEAD"), (*READ_REQUEST_HEADERS, "*"))
READ_POST = Family(("GET", "HEAD", "POST"), (*READ_REQUEST_HEADERS, "*"))
CDS = Family(("GET", "HEAD", "POST"), ("Authorization", *READ_REQUEST_HEADERS, "*"))


@dataclass
class CorsPolicy:
    """Who may call from a browser, and the headers that say so; built once from the setting."""

    origins: list[str]
    #: The app's routes, for the ``Allow`` of a plain ``OPTIONS`` (the path family's methods without them).
    routes: Sequence[Any] = ()
    any_origin: bool = field(init=False)
    allowed: frozenset[bytes] = field(init=False)
    _any: Headers = field(init=False)
    #: path -> its static headers, for the paths answers are made for (bounded: paths are what clients send)
    _static: dict[str, Headers] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.any_origin = "*" in self.origins
        # Scheme and host are case-insensitive; browsers send them in lower case.
        self.allowed = frozenset(origin.rstrip("/").lower().encode() for origin in self.origins if origin != "*")
        self._any = [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", _EXPOSED)]

    @property
    def enabled(self) -> bool:
        return self.any_origin or bool(self.allowed)

    @property
    def origin_dependent(self) -> bool:
        """True when answers differ by ``Origin`` (a list of origins): shared caches must vary on it."""
        return self.enabled and not self.any_origin

    @staticmethod
    def family(path: str) -> Family | None:
        if _under(path, CDS_PREFIX):
            return CDS
        if path in READ_POSTS:
            return READ_POST
        if path == "/" or any(_under(path, prefix) for prefix in READ_PREFIXES):
            return READ
        return None

    def static_headers(self, path: str) -> Headers:
        """The CORS headers of any answer on ``path`` when they do not depend on the request (``*``), else
        none (the front door then leaves requests with ``Origin`` to the stack)."""
        if not self.any_origin:
            return []
        known = self._static.get(path)
        if known is None:
            known = self._any if self.family(path) is not None else []
            if len(self._static) >= STATIC_MEMO_MAX:
                self._static.clear()
            self._static[path] = known
        return known

    def response_headers(self, path: str, origin: bytes | None) -> Headers:
        family = self.family(path)
        if family is None:
            return []
        if self.any_origin:
            return self._any
        if origin is not None and origin.lower() in self.allowed:
            return [(b"access-control-allow-origin", origin), (b"access-control-expose-headers", _EXPOSED)]
        return []

    def options_answer(self, scope: Scope, origin: bytes | None, preflight: bool) -> Headers | None:
        """The headers of the 204 answering an ``OPTIONS`` on the scope's path, or None when CORS does not cover
        it."""
        path: str = scope["path"]
        family = self.family(path)
        if family is None:
            return None
        methods = allowed_methods(self.routes, scope) if self.routes else list(family.methods)
        headers: Headers = [(b"allow", ", ".join((*methods, "OPTIONS")).encode())]
        allowed = self.response_headers(path, origin)
        if preflight and allowed:
            headers += [
                allowed[0],
                (b"access-control-allow-methods", ", ".join(family.methods).encode()),
                (b"access-control-allow-headers", ", ".join(family.request_headers).encode()),
                (b"access-control-max-age", str(MAX_AGE).encode()),
            ]
        return headers


class CorsMiddleware:
    """Pure ASGI: answers ``OPTIONS`` on the CORS paths and adds the CORS headers to every other answer."""

    def __init__(self, app: ASGIApp, *, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        origin: bytes | None = None
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight = True
        policy = self.policy
        if scope["method"] == "OPTIONS":
            answer = policy.options_answer(scope, origin, preflight and origin is not None)
            if answer is not None:
                await send({"type": "http.response.start", "status": 204, "headers": answer})
                await send({"type": "http.response.body", "body": b""})
                return
        extra = policy.response_headers(path, origin)
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)
