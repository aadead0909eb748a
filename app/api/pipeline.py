"""The request pipeline, declared in one place: :func:`middleware_stack`, outermost first.

Before all of it, the front door (``app/api/front_door.py``) answers cache hits and 304s from the same
store, and plain reads and plain POST checks computed from the read model, with the same headers. To add a
middleware, add one line to the list where it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.middleware import Middleware

from app.api.caching import ConditionalCacheMiddleware, ResponseStore
from app.api.cors import CorsMiddleware, CorsPolicy
from app.api.hosts import HostMiddleware, HostPolicy
from app.api.limits import Families, RequestGuard
from app.api.negotiation import NegotiationMiddleware
from app.api.pages.redirect import HtmlRedirectMiddleware
from app.api.security_headers import SecurityHeaders, SecurityHeadersMiddleware
from app.errors import ErrorBoundary, ErrorRenderer
from app.observability.middleware import InstrumentationMiddleware
from app.observability.observer import RequestObserver
from app.settings import Settings


@dataclass(frozen=True)
class Parts:
    """What the middlewares share with the rest of the app (made once per app by the factory)."""

    observer: RequestObserver
    security: SecurityHeaders
    hosts: HostPolicy
    store: ResponseStore
    cors: CorsPolicy
    render: ErrorRenderer
    families: Families


def cache_control(settings: Settings) -> str:
    return f"public, max-age={settings.cache_max_age}, stale-while-revalidate={settings.cache_stale_while_revalidate}"


def middleware_stack(settings: Settings, parts: Parts) -> list[Middleware]:
    """The middleware stack, outermost first."""
    stack = [
        # Times and logs everything the stack answers (the front door records its own hits the same way).
        Middleware(InstrumentationMiddleware, observer=parts.observer),
        # Outside the cache and CORS: cached answers, 304s, Host 400s and 500s carry the security headers too.
        Middleware(SecurityHeadersMiddleware, policy=parts.security),
        # Any exception no handler took: a well-formed 500 (or 503 for a store outage), inside the headers.
        Middleware(ErrorBoundary, render=parts.render),
        # A Host we do not answer for is a 400; the scope is rewritten to the resolved scheme and host.
        Middleware(HostMiddleware, policy=parts.hosts),
    ]
    if parts.cors.enabled:
        # `*` by default for the public read API (app/api/cors.py); preflights answered here.
        stack.append(Middleware(CorsMiddleware, policy=parts.cors))
    stack += [
        # Body caps, JSON depth, body read time, rate limits: before any route, parser or credential check;
        # inside CORS, so that a browser can read the 413 or 429.
        Middleware(RequestGuard, settings=settings, render=parts.render, families=parts.families),
        # The one response cache (conditional GETs, HEAD, compression); it fills the front door's store.
        Middleware(ConditionalCacheMiddleware, store=parts.store, cache_control=cache_control(settings)),
        # Outside the 406 check: a browser asking a record's URL for HTML is sent to its page (303); JSON
        # clients pay one header scan, and cache hits are answered by the front door before this runs.
        Middleware(HtmlRedirectMiddleware),
        # Inside the cache: a 406/415 is never a 200, so never cached; cache hits skip the check.
        Middleware(NegotiationMiddleware),
    ]
    return stack
