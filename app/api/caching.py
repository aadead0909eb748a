"""Strong ETags, 304s, Cache-Control, HEAD, and a per-process response cache.

Representations are keyed on the dataset's content version; a new version (a content load in any
process) empties the cache at the next check, at most ``content_check_interval`` seconds later.
The ETag is the SHA-256 of the body, so the same representation has the same tag in every process
and across restarts.

:class:`ResponseStore` holds the cached answers, with their header lists built once at insert;
:class:`ConditionalCacheMiddleware` (pure ASGI, inside FastAPI's stack) fills it and answers from it;
the front door (``app/api/front_door.py``) answers hits and 304s from it before FastAPI's stack runs.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]
CacheKey = tuple[str, bytes, bytes]

log = logging.getLogger("ldn_kb.cache")


class ContentVersion:
    """The current content version, as last read from the store (-1 until a read succeeds).

    With a positive ``interval``, :meth:`watch` (a task the app's lifespan runs, after a first
    :meth:`refresh`) re-reads it every ``interval`` seconds in a worker thread, so :meth:`current` does not
    touch the database on the event loop: a synchronous read there, waiting for a pooled connection that
    only the blocked loop could release, stalled a cold burst of 32 requests for the pool's 30 s timeout.
    Until a first read succeeds (the store was down at start-up, or no lifespan ran), :meth:`current` tries
    one itself, at most once per ``interval``. With ``interval`` 0 (tests) every call reads.
    """

    def __init__(self, read: Callable[[], int], interval: float) -> None:
        self._read = read
        self.interval = interval
        self._value = -1
        self._tried = -math.inf

    def current(self) -> int:
        if self.interval == 0:
            return self.refresh()
        if self._value < 0 and time.monotonic() - self._tried >= self.interval:
            self.try_refresh()
        return self._value

    def refresh(self) -> int:
        self._tried = time.monotonic()
        self._value = self._read()
        return self._value

    def try_refresh(self) -> None:
        """:meth:`refresh`, keeping the version we know when the store cannot answer."""
        try:
            self.refresh()
        except Exception:  # the store is away: keep serving what we know; readiness reports it
            log.warning("could not read the content version", exc_info=True)

    async def watch(self) -> None:
        """Re-read the version every ``interval`` seconds until cancelled (never returns on its own)."""
        if self.interval == 0:
            return
        while True:
            await anyio.sleep(self.interval)
            await anyio.to_thread.run_sync(self.try_refresh)


_KEEP_ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"link", b"content-location", b"expires"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached 200: its body and the header lists of its full and its 304 answer, built once."""

    body: bytes
    etag: bytes
    headers: Headers
    not_modified_headers: Headers


def strong_etag(body: bytes) -> bytes:
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match == etag:  # the usual case: the one tag the client was given
        return True
    if if_none_match.strip() == b"*":
        return True
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return etag in tags


def make_entry(headers: Headers, body: bytes, etag: bytes) -> Entry:
    """The entry for a 200: ``headers`` without ETag and Content-Length, which it sets itself."""
    full = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
    full.append((b"etag", etag))
    kept = [(k, v) for k, v in full if k in _KEEP_ON_304]
    full.append((b"content-length", str(len(body)).encode()))
    return Entry(body, etag, full, kept)


@dataclass
class ResponseStore:
    """Cached 200s by (path, query string, Accept|Host), for one content version, least recently used out.

    ``pending`` holds a flag per key being computed now, so a burst of identical misses computes once.
    """

    version: ContentVersion
    max_entries: int
    prefixes: tuple[str, ...] = ("/v1/", "/fhir/")
    entries: OrderedDict[CacheKey, Entry] = field(default_factory=OrderedDict)
    entries_version: int = -1
    pending: dict[CacheKey, anyio.Event] = field(default_factory=dict)

    def caches(self, path: str) -> bool:
        return self.max_entries > 0 and path.startswith(self.prefixes)

    def get(self, key: CacheKey) -> Entry | None:
        version = self.version.current()
        if version != self.entries_version:
            self.entries.clear()
            self.entries_version = version
            return None
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: Entry, version: int) -> None:
        """Store ``entry`` if it was computed for the version still current."""
        if version != self.entries_version or version != self.version.current():
            return
        self.entries[key] = entry
        if len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


#: What the cache and the front door read from a request's headers, in one pass: the cache key, the
#: ``If-None-Match`` (empty when absent), the client's ``X-Request-ID`` and whether ``Origin`` was sent.
RequestFacts = tuple[CacheKey, bytes, bytes | None, bool]


def request_facts(scope: Scope) -> RequestFacts:
    inm = accept = host = b""
    request_id: bytes | None = None
    has_origin = False
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            inm = value
        elif name == b"accept":
            accept = value
        elif name == b"host":
            host = value
        elif name == b"x-request-id":
            if request_id is None:
                request_id = value
        elif name == b"origin":
            has_origin = True
    key = (scope["path"], scope.get("query_string", b""), accept + b"|" + host)
    return key, inm, request_id, has_origin


def entry_messages(
    entry: Entry, inm: bytes, head: bool, extra: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[int, Message, Message]:
    """The status and the two ASGI messages answering from ``entry``: 304 when ``inm`` matches its ETag,
    else 200 (no body for HEAD)."""
    if inm and etag_matches(inm, entry.etag):
        start = {"type": "http.response.start", "status": 304, "headers": [*entry.not_modified_headers, *extra]}
        return 304, start, {"type": "http.response.body", "body": b""}
    start = {"type": "http.response.start", "status": 200, "headers": [*entry.headers, *extra]}
    return 200, start, {"type": "http.response.body", "body": b"" if head else entry.body}


async def send_entry(send: Send, entry: Entry, inm: bytes, head: bool) -> None:
    _, start, body = entry_messages(entry, inm, head)
    await send(start)
    await send(body)


class ConditionalCacheMiddleware:
    def __init__(self, app: ASGIApp, *, store: ResponseStore, cache_control: str) -> None:
        self.app = app
        self.store = store
        self.cache_control = cache_control.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        key, inm, _, _ = request_facts(scope)
        store = self.store
        cacheable = store.caches(scope["path"])
        if cacheable:
            entry = store.get(key)
            if entry is None and (pending := store.pending.get(key)) is not None:
                await pending.wait()  # the same request is being computed: wait for its answer
                entry = store.get(key)
            if entry is not None:
                await send_entry(send, entry, inm, head)
                return
            done = store.pending[key] = anyio.Event()
            try:
                await self._compute(scope, receive, send, key, inm, head, cacheable=True)
            finally:
                if store.pending.get(key) is done:
                    del store.pending[key]
                done.set()
            return
        await self._compute(scope, receive, send, key, inm, head, cacheable=False)

    async def _compute(
        self, scope: Scope, receive: Receive, send: Send, key: CacheKey, inm: bytes, head: bool, *, cacheable: bool
    ) -> None:
        version = self.store.entries_version
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
        if status != 200:
            out = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
            out.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": out})
            await send({"type": "http.response.body", "body": b"" if head else body})
            return
        etag = next((v for k, v in headers if k == b"etag"), None) or strong_etag(body)
        if scope["path"].startswith(self.store.prefixes) and not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", self.cache_control))
        entry = make_entry(headers, body, etag)
        # RFC 9111 §5.2.2.5: a shared cache does not store a response marked no-store (e.g. a FHIR answer that
        # ignored a parameter under lenient handling, which a strict client must not get).
        if cacheable and not any(k == b"cache-control" and b"no-store" in v for k, v in headers):
            self.store.put(key, entry, version)
        await send_entry(send, entry, inm, head)
