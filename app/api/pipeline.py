"""The request pipeline, declared in one place: :func:`middleware_stack`, outermost first.

Before all of it, the front door (``app/api/front_door.py``) answers cache hits and 304s from the same
store, with the same headers. To add a middleware, add one line to the list where it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from app.api.caching import ConditionalCacheMiddleware, ResponseStore
from app.api.hosts import HostMiddleware, HostPolicy
from app.api.negotiation import NegotiationMiddleware
from app.api.security_headers import SecurityHeaders, SecurityHeadersMiddleware
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


def cache_control(settings: Settings) -> str:
    return f"public, max-age={settings.cache_max_age}, stale-while-revalidate={settings.cache_stale_while_revalidate}"


def middleware_stack(settings: Settings, parts: Parts) -> list[Middleware]:
    """The middleware stack, outermost first."""
    stack = [
        # Times and logs everything the stack answers (the front door records its own hits the same way).
        Middleware(InstrumentationMiddleware, observer=parts.observer),
        # Outside the cache and CORS: cached answers, 304s and Host 400s carry the security headers too.
        Middleware(SecurityHeadersMiddleware, policy=parts.security),
        # A Host we do not answer for is a 400; the scope is rewritten to the resolved scheme and host.
        Middleware(HostMiddleware, policy=parts.hosts),
    ]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                allow_headers=["*"],
                expose_headers=["ETag", "Link", "X-Request-ID"],
                max_age=600,
            )
        )
    stack += [
        # The one response cache (conditional GETs, HEAD, compression); it fills the front door's store.
        Middleware(ConditionalCacheMiddleware, store=parts.store, cache_control=cache_control(settings)),
        # Inside the cache: a 406/415 is never a 200, so never cached; cache hits skip the check.
        Middleware(NegotiationMiddleware),
    ]
    return stack
