"""Which host and scheme a request's links and redirects use: never one the client may name freely.

* ``LDNKB_PUBLIC_BASE_URL`` set: every link and redirect uses it, whatever ``Host`` says.
* Otherwise the request's ``Host``, only when its name is in ``LDNKB_ALLOWED_HOSTS`` (exact names,
  ``.example.org`` for a domain and its subdomains, ``*`` for any); another ``Host`` is a 400
  problem+json, as Django's ``ALLOWED_HOSTS`` and Starlette's ``TrustedHostMiddleware`` answer.
* ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` count only when the peer is one of
  ``LDNKB_TRUSTED_PROXIES`` (addresses or networks); the forwarded host must be allowed too. The value
  our proxy added (the last of a list) is the one read.

:class:`HostMiddleware` (pure ASGI, outermost in the stack) rewrites the scope to the resolved scheme and
host, so Starlette's ``request.base_url``, its redirects' ``Location`` and :func:`base_url_of` agree; the
response cache keys on the resolved base (a bounded set), so a cached answer never carries another
client's host or scheme.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problem_body

#: The scope key holding the resolved base URL (``https://kb.example.org``), set by the middleware.
SCOPE_KEY = "ldnkb.base_url"
_MEMO_MAX = 256

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _last(value: bytes) -> str:
    return value.decode("latin-1").rsplit(",", 1)[-1].strip()


class HostPolicy:
    """Resolves (scheme, host) of a request from the settings; :meth:`resolve` is memoised per input."""

    def __init__(self, *, public_base_url: str, allowed_hosts: Sequence[str], trusted_proxies: Sequence[str]) -> None:
        self.public = public_base_url.rstrip("/")
        parts = urlsplit(self.public) if self.public else None
        self.public_scheme = parts.scheme if parts else ""
        self.public_host = parts.netloc if parts else ""
        names = [h.strip().lower() for h in allowed_hosts if h.strip()]
        self.any_host = "*" in names
        self.exact = frozenset(n for n in names if not n.startswith("."))
        self.suffixes = tuple(n for n in names if n.startswith("."))
        self.any_proxy = "*" in trusted_proxies
        networks: list[Network] = []
        proxy_names: set[str] = set()
        for entry in (p.strip() for p in trusted_proxies):
            if not entry or entry == "*":
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                proxy_names.add(entry)  # a peer that is not an address (a Unix socket's name, the test client)
        self.proxies: tuple[Network, ...] = tuple(networks)
        self.proxy_names = frozenset(proxy_names)
        self._memo: dict[tuple[str, bytes], str | None] = {}
        self._trusted: dict[str, bool] = {}

    def host_allowed(self, host: str) -> bool:
        name = host.lower()
        if name.startswith("["):  # [::1]:8000
            name = name.split("]", 1)[0] + "]"
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        if not name:
            return False
        return self.any_host or name in self.exact or any(name == s[1:] or name.endswith(s) for s in self.suffixes)

    def trusts(self, peer: str | None) -> bool:
        if peer is None or not (self.any_proxy or self.proxies or self.proxy_names):
            return False
        if peer in self.proxy_names:
            return True
        known = self._trusted.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
                known = self.any_proxy or any(address in net for net in self.proxies)
            except ValueError:
                known = self.any_proxy
            if len(self._trusted) < _MEMO_MAX:
                self._trusted[peer] = known
        return known

    def base(self, scheme: str, host: bytes) -> str | None:
        """The base URL for a request seen with ``scheme`` and ``Host: host``, or None (not allowed)."""
        if self.public:
            return self.public
        memo_key = (scheme, host)
        if memo_key in self._memo:
            return self._memo[memo_key]
        text = host.decode("latin-1").strip()
        base = f"{scheme}://{text}" if text and self.host_allowed(text) and _plain(text) else None
        if len(self._memo) < _MEMO_MAX:
            self._memo[memo_key] = base
        return base

    def resolve(self, scope: Scope) -> str | None:
        """The base URL for ``scope`` (forwarded headers from trusted proxies applied), or None."""
        host = b""
        forwarded_proto = forwarded_host = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"x-forwarded-proto":
                forwarded_proto = value
            elif name == b"x-forwarded-host":
                forwarded_host = value
        scheme: str = scope.get("scheme", "http")
        if (forwarded_proto is not None or forwarded_host is not None) and self.trusts(_peer(scope)):
            if forwarded_proto is not None and _last(forwarded_proto) in ("http", "https"):
                scheme = _last(forwarded_proto)
            if forwarded_host is not None:
                host = _last(forwarded_host).encode("latin-1")
        return self.base(scheme, host)


def _plain(host: str) -> bool:
    """A host[:port] of the characters a host name or address may hold (nothing to inject into a URL)."""
    return all(c.isalnum() or c in ".-:[]" for c in host)


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _bad_host(path: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    problem = PROBLEM_TYPES["bad-request"]
    body = orjson.dumps(
        problem_body(
            problem,
            "The Host header names a host this service does not answer for (see LDNKB_ALLOWED_HOSTS).",
            path,
        )
    )
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    return headers, body


class HostMiddleware:
    """400 for a Host not allowed; else the scope rewritten to the resolved scheme and host."""

    def __init__(self, app: ASGIApp, *, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        base = self.policy.resolve(scope)
        if base is None:
            headers, body = _bad_host(scope["path"])
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            return
        scope[SCOPE_KEY] = base
        scheme, _, netloc = base.partition("://")
        netloc = netloc.split("/", 1)[0]
        if scope.get("scheme") != scheme:
            scope["scheme"] = scheme
        host = netloc.encode("latin-1")
        headers = scope["headers"]
        if not any(name == b"host" and value == host for name, value in headers):
            scope["headers"] = [(n, v) for n, v in headers if n != b"host"] + [(b"host", host)]
        await self.app(scope, receive, send)


def base_url_of(scope: Scope, policy: HostPolicy | None) -> str | None:
    """The resolved base of a request (as the middleware left it, else resolved now)."""
    known: str | None = scope.get(SCOPE_KEY)
    if known is not None:
        return known
    return policy.resolve(scope) if policy is not None else None
