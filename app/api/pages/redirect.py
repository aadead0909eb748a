"""``Accept: text/html`` on ``/v1/{collection}/{slug}``: a 303 to the record's page (pure ASGI).

JSON clients pay one header scan (and only on /v1 record paths whose Accept names text/html is anything
parsed); cached JSON answers are sent by the front door before this runs.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.negotiation import _quality
from app.api.v1.meta import COLLECTIONS as KINDS

_RECORD = re.compile(rf"^/v1/({'|'.join(KINDS)})/([a-z0-9]+(?:-[a-z0-9]+)*)$")


def prefers_html(accept: str) -> bool:
    """Whether ``text/html`` is acceptable and ranks above ``application/json`` (RFC 9110 §12.5.1)."""
    html = json = -1.0
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        q = _quality(params)
        if media == "text/html":
            html = max(html, q)
        elif media == "application/json":
            json = max(json, q)
        elif media in ("application/*", "*/*") and json < 0:
            json = q * 0.99  # a wildcard ranks below an explicit type of the same quality
    return html > 0 and html > json


class HtmlRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"].startswith("/v1/"):
            accept = b",".join(v for k, v in scope["headers"] if k == b"accept")
            if b"text/html" in accept and prefers_html(accept.decode("latin-1")):
                found = _RECORD.match(scope["path"])
                if found:
                    location = f"/pages/{found.group(1)}/{found.group(2)}".encode()
                    headers = [
                        (b"location", location),
                        (b"vary", b"Accept"),
                        (b"cache-control", b"no-cache"),
                        (b"content-length", b"0"),
                    ]
                    await send({"type": "http.response.start", "status": 303, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
        # (The JSON of a record URL says ``Vary: Accept`` itself: app/api/v1/catalog.py.)
        await self.app(scope, receive, send)
