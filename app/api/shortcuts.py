"""What the shortcut routes share: the routes placed first in the app's router that answer plain requests
without FastAPI's per-request routing, dependency solving and validation, and hand every other request to
the documented route (``app/api/v1/catalog_shortcut.py``, ``app/api/v1/search.py``,
``app/api/v1/dose_check.py``, ``app/integrations/cds_hooks/shortcut.py``), and the request guard, which
reads a body before the route does (``app/api/limits.py``)."""

from __future__ import annotations

from starlette.types import Message, Receive


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the body already read, then defers to the real one (disconnects): how a
    shortcut hands a request whose body it read to the documented route."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
