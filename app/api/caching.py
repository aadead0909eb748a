"""Pure ASGI middleware: strong ETags, 304s, Cache-Control, HEAD, and a per-process response cache.

Representations are keyed on the dataset's content version; a new version (a content load in any
process) empties the cache at the next check, at most ``content_check_interval`` seconds later.
The ETag is the SHA-256 of the body, so the same representation has the same tag in every process
and across restarts.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]


class ContentVersion:
    """The current content version, re-read from the store at most every ``interval`` seconds."""

    def __init__(self, read: Callable[[], int], interval: float) -> None:
        self._read = read
        self._interval = interval
        self._value = -1
        self._checked = 0.0

    def current(self) -> int:
        now = time.monotonic()
        if self._value < 0 or now - self._checked >= self._interval:
            self._value = self._read()
            self._checked = now
        return self._value


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    status: int
    headers: Headers
    body: bytes
    etag: bytes


def strong_etag(body: bytes) -> bytes:
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return etag in tags


_KEEP_ON_304 = {b"etag", b"cache-control", b"vary", b"link", b"content-location", b"expires"}


class ConditionalCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        version: ContentVersion,
        cache_control: str,
        max_entries: int,
        cached_prefixes: tuple[str, ...] = ("/v1/", "/fhir/"),
    ) -> None:
        self.app = app
        self.version = version
        self.cache_control = cache_control.encode()
        self.max_entries = max_entries
        self.cached_prefixes = cached_prefixes
        self.entries: OrderedDict[tuple[str, bytes, bytes], Entry] = OrderedDict()
        self.entries_version = -1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        inm = b""
        accept = b""
        host = b""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                inm = value
            elif name == b"accept":
                accept = value
            elif name == b"host":
                host = value
        path: str = scope["path"]
        cacheable = self.max_entries > 0 and path.startswith(self.cached_prefixes)
        key = (path, scope.get("query_string", b""), accept + b"|" + host)
        if cacheable:
            version = self.version.current()
            if version != self.entries_version:
                self.entries.clear()
                self.entries_version = version
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                await self._send(send, entry.status, entry.headers, entry.body, entry.etag, inm, head)
                return

        if head:
            scope = dict(scope)
            scope["method"] = "GET"
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status: int = start.get("status", 500)
        headers: Headers = [(k.lower(), v) for k, v in start.get("headers", [])]
        body = b"".join(chunks)
        existing = next((v for k, v in headers if k == b"etag"), None)
        if status != 200:
            await self._send(send, status, headers, body, None, b"", head)
            return
        etag = existing or strong_etag(body)
        headers = [(k, v) for k, v in headers if k not in (b"etag", b"content-length")]
        if path.startswith(self.cached_prefixes) and not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", self.cache_control))
        if cacheable and self.entries_version == self.version.current():
            self.entries[key] = Entry(self.entries_version, status, headers, body, etag)
            if len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        await self._send(send, status, headers, body, etag, inm, head)

    @staticmethod
    async def _send(
        send: Send, status: int, headers: Headers, body: bytes, etag: bytes | None, inm: bytes, head: bool
    ) -> None:
        out = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
        if etag is not None:
            out.append((b"etag", etag))
            if inm and etag_matches(inm, etag):
                kept = [(k, v) for k, v in out if k in _KEEP_ON_304]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"" if head else body})
