"""Pure ASGI middleware: security headers on every response, cached ones and 304s included.

The headers are built once, as bytes. The API's JSON gets the strictest Content-Security-Policy
(``default-src 'none'``: a JSON document loads nothing); the self-hosted docs pages get one that lets
them load their own scripts, styles and the OpenAPI document, and nothing from elsewhere (no inline
script: the pages start Swagger UI and ReDoc from files under ``/docs-static``).

With a list of CORS origins (not ``*``), ``Vary: Origin`` is added to every response that lacks it,
including the ones to requests without ``Origin``: CORS answers differ by origin, and a shared cache
that stored the answer to a request without ``Origin`` must not hand it to a browser that sent one.

When the public base URL (``LDNKB_PUBLIC_BASE_URL``) is https, ``Strict-Transport-Security`` is added.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# ReDoc (styled-components) and Swagger UI (React) set styles at run time, hence 'unsafe-inline' for
# styles only; scripts come from 'self' alone. Swagger UI's icons are data: SVGs; ReDoc's search runs in
# a worker it starts from a blob: URL.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
DOCS_PREFIXES: tuple[str, ...] = ("/docs", "/redoc")
# The pages for people load their one stylesheet from 'self'; nothing else, no script.
PAGES_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGES_PREFIX = "/pages"
HSTS = "max-age=31536000"

Headers = list[tuple[bytes, bytes]]


def _common() -> Headers:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]


class SecurityHeaders:
    """The headers every response gets, by path, built once; :meth:`apply` adds them to a header list."""

    def __init__(self, *, vary_origin: bool = False, hsts: bool = False) -> None:
        self.vary_origin = vary_origin
        common = _common()
        if hsts:  # the public base URL is https: browsers keep to https for a year
            common.append((b"strict-transport-security", HSTS.encode()))
        self.api_headers: Headers = [*common, (b"content-security-policy", API_CSP.encode())]
        self.docs_headers: Headers = [*common, (b"content-security-policy", DOCS_CSP.encode())]
        self.pages_headers: Headers = [*common, (b"content-security-policy", PAGES_CSP.encode())]

    def for_path(self, path: str) -> Headers:
        if path.startswith(DOCS_PREFIXES):
            return self.docs_headers
        return self.pages_headers if path.startswith(PAGES_PREFIX) else self.api_headers

    def apply(self, headers: Headers, path: str) -> Headers:
        """``headers`` with this path's security headers (and ``Vary: Origin`` when configured) added."""
        out = [*headers, *self.for_path(path)]
        if self.vary_origin:
            _add_vary_origin(out)
        return out


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, policy: SecurityHeaders) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        apply = self.policy.apply

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = apply(list(message.get("headers", [])), path)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_vary_origin(headers: Headers) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower() and value.strip() != b"*":
                headers[i] = (name, value + b", Origin")
            return
    headers.append((b"vary", b"Origin"))
