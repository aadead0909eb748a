"""The one response cache: strong ETags, 304s, Cache-Control, HEAD, compression, bounded in bytes.

Representations are keyed on the dataset's content version; a new version (a content load in any
process) empties the cache at the next check, at most ``content_check_interval`` seconds later.
The ETag is the SHA-256 of the body, so the same representation has the same tag in every process
and across restarts; a compressed representation has the same tag with the coding as suffix
(``"…-gzip"``, ``"…-br"``), strong too (compression is deterministic: same bytes on every worker).

* :class:`ResponseStore` holds the cached answers, one :class:`Entry` per normalised key, bounded in
  bytes (bodies, compressed bodies, header lists and keys counted), least recently used out. Each entry
  holds its header lists built once: as the stack sends them and as they leave the stack (security
  headers added), so the front door (``app/api/front_door.py``) answers from the very same entry.
* The key (:func:`request_facts`) is the path, the query in canonical order with integer parameters
  written without zero padding, the negotiated media type (FHIR only: /v1 has one) and the resolved
  base URL (``app/api/hosts.py``: a bounded set). Never the raw ``Host`` or ``Accept``.
* Compression: bodies of a compressible type from ``COMPRESS_MIN`` bytes on are offered in gzip and
  brotli by ``Accept-Encoding`` (q-values honoured, brotli preferred on a tie), with
  ``Vary: Accept-Encoding``; each coding is produced once per entry, on its first request, and kept.
* :class:`ConditionalCacheMiddleware` (pure ASGI, inside FastAPI's stack) fills the store and answers
  from it.
"""

from __future__ import annotations

import gzip
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from urllib.parse import parse_qsl, quote, urlencode

import anyio
import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import CACHE_BUSTER
from app.api.hosts import HostPolicy
from app.api.negotiation import accepts_json
from app.etag import strong_etag

Headers = list[tuple[bytes, bytes]]
#: path, canonical query, negotiated media type (b"" where there is one), resolved base URL.
CacheKey = tuple[str, str, bytes, str]

log = logging.getLogger("ldn_kb.cache")

#: Bodies smaller than this are sent as they are: compression would save less than its headers cost.
COMPRESS_MIN = 1024
CODINGS: tuple[bytes, ...] = (b"br", b"gzip")  # preference on equal q
GZIP_LEVEL = 6
BROTLI_QUALITY = 5
_COMPRESSIBLE = (b"application/json", b"application/fhir+json", b"application/problem+json", b"application/javascript")
_COMPRESSIBLE_PREFIXES = (b"text/", b"image/svg+xml")
#: A rough per-entry cost besides bodies and headers: the key, dict slot, dataclasses, list objects.
ENTRY_OVERHEAD = 600
_MEMO_MAX = 4096
_MEMO_LONGEST = 1024


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
class Variant:
    """One coding of a cached 200: its body, ETag, and header lists (full and 304), as the stack sends them
    (``headers``) and as they leave it with the security headers (``outer``), all built once."""

    body: bytes
    etag: bytes
    headers: Headers
    not_modified_headers: Headers
    outer: Headers
    outer_not_modified: Headers

    @property
    def size(self) -> int:
        lists = (self.headers, self.not_modified_headers, self.outer, self.outer_not_modified)
        # Each header: its name and value, and 72 bytes of tuple overhead (counted at C speed: one join a list).
        return len(self.body) + len(self.etag) + sum(len(b"".join(chain.from_iterable(h))) + 72 * len(h) for h in lists)


@dataclass(slots=True)
class Entry:
    """A cached 200: its identity variant and the compressed ones made so far (by coding)."""

    identity: Variant
    path: str
    compressible: bool
    codings: dict[bytes, Variant] = field(default_factory=dict)
    size: int = 0

    # The identity variant's fields, for callers that deal in one representation.
    @property
    def body(self) -> bytes:
        return self.identity.body

    @property
    def etag(self) -> bytes:
        return self.identity.etag


def no_store(headers: Headers) -> bool:
    """Whether the route said its answer must not be stored (e.g. a FHIR Bulk Data job's status)."""
    return any(k == b"cache-control" and b"no-store" in v for k, v in headers)


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match == etag:  # the usual case: the one tag the client was given
        return True
    if if_none_match.strip() == b"*":
        return True
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return etag in tags


def add_vary(headers: Headers, token: bytes) -> Headers:
    """``headers`` with ``token`` in its ``Vary`` (appended to an existing one, else a new header)."""
    out = list(headers)
    for i, (name, value) in enumerate(out):
        if name == b"vary":
            if token.lower() not in value.lower() and value.strip() != b"*":
                out[i] = (name, value + b", " + token)
            return out
    out.append((b"vary", token))
    return out


def _variant(headers: Headers, body: bytes, etag: bytes, decorate: Decorate, path: str) -> Variant:
    full = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
    full.append((b"etag", etag))
    kept = [(k, v) for k, v in full if k in _KEEP_ON_304]
    full.append((b"content-length", str(len(body)).encode()))
    return Variant(body, etag, full, kept, decorate(full, path), decorate(kept, path))


#: Adds the headers the stack puts around the cache (the security headers) to a header list, by path.
Decorate = Callable[[Headers, str], Headers]


def _undecorated(headers: Headers, _path: str) -> Headers:
    return list(headers)


def _compressible(headers: Headers, body: bytes) -> bool:
    if len(body) < COMPRESS_MIN:
        return False
    media = b""
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
    return media in _COMPRESSIBLE or media.startswith(_COMPRESSIBLE_PREFIXES) or media.endswith(b"+json")


def make_entry(headers: Headers, body: bytes, etag: bytes, path: str = "", decorate: Decorate = _undecorated) -> Entry:
    """The entry for a 200: ``headers`` without ETag and Content-Length, which it sets itself."""
    compressible = _compressible(headers, body)
    if compressible:
        headers = add_vary(headers, b"Accept-Encoding")
    return Entry(_variant(headers, body, etag, decorate, path), path, compressible)


def compress(body: bytes, coding: bytes) -> bytes:
    if coding == b"gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return bytes(brotli.compress(body, quality=BROTLI_QUALITY))


def _coded(entry: Entry, coding: bytes, decorate: Decorate) -> Variant:
    base = entry.identity
    body = compress(base.body, coding)
    etag = base.etag[:-1] + b"-" + coding + b'"'
    headers = [(k, v) for k, v in base.headers if k not in (b"content-length", b"etag")]
    headers.append((b"content-encoding", coding))
    return _variant(headers, body, etag, decorate, entry.path)


def parse_accept_encoding(value: bytes) -> bytes | None:
    """The coding to send for an ``Accept-Encoding`` value (``br``, ``gzip``), or None for identity."""
    q: dict[bytes, float] = {}
    star: float | None = None
    for part in value.split(b","):
        token, *params = part.split(b";")
        name = token.strip().lower()
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, number = param.partition(b"=")
            if key.strip().lower() == b"q":
                try:
                    weight = max(0.0, min(1.0, float(number.strip())))
                except ValueError:
                    weight = 0.0
        if name == b"*":
            star = weight
        elif name == b"x-gzip":
            q.setdefault(b"gzip", weight)
        else:
            q[name] = weight
    best: bytes | None = None
    best_q = 0.0
    for coding in CODINGS:
        weight = q.get(coding, star if star is not None else 0.0)
        if weight > best_q:
            best, best_q = coding, weight
    return best


class Canonical:
    """Canonical query strings: parameters in a stable order by name (values of one name keep their
    order), percent-encoding normalised, integer parameters without padding (``limit=007`` ->
    ``limit=7``), and the cache buster ``_`` left out. Memoised for the query strings seen most (bounded)."""

    def __init__(self, integer_params: Callable[[], Iterable[str]] = frozenset) -> None:
        self._integer_params = integer_params  # read on first use (the app's routes are all declared by then)
        self.integer_params: frozenset[str] | None = None
        self._memo: dict[bytes, str] = {}

    def __call__(self, raw: bytes) -> str:
        if not raw:
            return ""
        known = self._memo.get(raw)
        if known is not None:
            return known
        if self.integer_params is None:
            self.integer_params = frozenset(self._integer_params())
        plain = _PLAIN_PAIR.fullmatch(raw)
        if plain is not None and plain[1] != b"_" and plain[1].decode() not in self.integer_params:
            return raw.decode("ascii")  # one parameter spelled as urlencode spells it (a search as it is typed)
        return self.spelled(raw)

    def spelled(self, raw: bytes) -> str:
        """The canonical spelling of ``raw``, worked out (and remembered)."""
        assert self.integer_params is not None
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        out: list[tuple[str, str]] = []
        for name, value in sorted(pairs, key=lambda p: p[0]):
            if name == CACHE_BUSTER:
                continue  # the same answer whatever its value: one entry, not one per value
            if name in self.integer_params and value[:1] == "0" and value.isascii() and value.isdigit():
                value = value.lstrip("0") or "0"
            out.append((name, value))
        canonical = urlencode(out, quote_via=quote, safe="", encoding="latin-1")
        if len(raw) <= _MEMO_LONGEST:
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[raw] = canonical
        return canonical


#: One ``name=value`` pair of characters that percent-encoding leaves as they are: already canonical.
_PLAIN_PAIR = re.compile(rb"([A-Za-z0-9_.~-]+)=([A-Za-z0-9_.~-]*)")

#: The media part of the key of a request that admits no representation we have (a 406 follows).
NOT_ACCEPTABLE = b"!"
_ALWAYS_JSON = frozenset({b"*/*", b"application/json", b"application/problem+json"})


def _fhir_media(accept: bytes) -> bytes:
    from app.integrations.fhir.errors import FhirError
    from app.integrations.fhir.negotiation import negotiate

    try:
        return negotiate(accept.decode("latin-1") or None, None).encode()
    except FhirError:
        return NOT_ACCEPTABLE


@dataclass
class ResponseStore:
    """Cached 200s by normalised key, for one content version, bounded in bytes, least recently used out.

    ``pending`` holds a flag per key being computed now, so a burst of identical misses computes once.
    """

    version: ContentVersion
    max_bytes: int
    decorate: Decorate = _undecorated
    hosts: HostPolicy | None = None
    canonical: Canonical = field(default_factory=Canonical)
    prefixes: tuple[str, ...] = ("/v1/", "/fhir/", "/pages/", "/openapi.json", "/docs-static/")
    entries: OrderedDict[CacheKey, Entry] = field(default_factory=OrderedDict)
    entries_version: int = -1
    total_bytes: int = 0
    #: Entries refused because they alone would take more than an eighth of the bound.
    refused: int = 0
    pending: dict[CacheKey, anyio.Event] = field(default_factory=dict)
    _media_memo: dict[tuple[bool, bool, bytes], bytes] = field(default_factory=dict)

    def caches(self, path: str) -> bool:
        return self.max_bytes > 0 and path.startswith(self.prefixes)

    def canonicalises(self, path: str) -> bool:
        """Whether the route sees this path's query in canonical form: for every path the store would key,
        with the cache on or off, so that replicas with other cache settings write the same links and strong
        ETags for the same request."""
        return path.startswith(self.prefixes)

    def media(self, path: str, accept: bytes) -> bytes:
        """What of ``Accept`` the answer depends on: the FHIR media type negotiated; nothing under /v1 (one
        media type). ``NOT_ACCEPTABLE`` when no answer is acceptable, or when a browser prefers HTML (a record
        is then redirected to its page): never answered from the store."""
        fhir = path.startswith("/fhir/")
        if not fhir and (not accept or accept in _ALWAYS_JSON):
            return b""
        v1 = path.startswith("/v1/")
        memo_key = (fhir, v1, accept)
        known = self._media_memo.get(memo_key)
        if known is None:
            if fhir:
                known = _fhir_media(accept)
            elif not v1:
                known = b""
            else:
                from app.api.pages.redirect import prefers_html  # a browser: the stack sends records to pages

                text = accept.decode("latin-1")
                known = b"" if accepts_json(text) and not prefers_html(text) else NOT_ACCEPTABLE
            if len(self._media_memo) < 256:
                self._media_memo[memo_key] = known
        return known

    def get(self, key: CacheKey) -> Entry | None:
        version = self.version.current()
        if version != self.entries_version:
            self.clear()
            self.entries_version = version
            return None
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def clear(self) -> None:
        self.entries.clear()
        self.total_bytes = 0

    def put(self, key: CacheKey, entry: Entry, version: int) -> None:
        """Store ``entry`` if it was computed for the version still current."""
        if version != self.entries_version or version != self.version.current():
            return
        size = ENTRY_OVERHEAD + entry.identity.size + sum(v.size for v in entry.codings.values())
        size += sum(len(part) for part in key if isinstance(part, str | bytes))
        entry.size = size
        if size > self.max_bytes // 8:
            self.refused += 1
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.total_bytes -= old.size
        self.entries[key] = entry
        self.total_bytes += size
        self._evict()

    def admit(
        self,
        key: CacheKey,
        headers: Headers,
        body: bytes,
        path: str,
        cache_control: bytes,
        version: int,
        *,
        cacheable: bool,
        outer: bool = False,
    ) -> Entry:
        """A route's 200 (``headers`` lower-cased) made into an entry as the cache keeps it: a strong ETag (the
        route's, else the body's SHA-256), ``Cache-Control`` on cached paths; stored when ``cacheable``, as
        computed for ``version``. ``outer``: the header lists as they leave the stack are wanted even when it
        is not stored (the front door sends them)."""
        etag = next((v for k, v in headers if k == b"etag"), None)
        if etag is None or etag.startswith(b"W/"):
            etag = strong_etag(body)
        if path.startswith(self.prefixes) and not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", cache_control))
        # RFC 9111 §5.2.2.5: a shared cache does not store a response marked no-store (a FHIR Bulk Data job's
        # status; a FHIR answer that ignored a parameter under lenient handling, which a strict client must not get).
        stored = cacheable and not no_store(headers)
        # The header lists as they leave the stack (security headers added) only where they are sent or kept.
        entry = make_entry(headers, body, etag, path, self.decorate if stored or outer else _undecorated)
        if stored:
            self.put(key, entry, version)
        return entry

    def variant(self, key: CacheKey, entry: Entry, accept_encoding: bytes) -> Variant:
        """The variant of ``entry`` for an ``Accept-Encoding``: made (once) and accounted on first use."""
        if not entry.compressible or not accept_encoding:
            return entry.identity
        coding = parse_accept_encoding(accept_encoding)
        if coding is None:
            return entry.identity
        made = entry.codings.get(coding)
        if made is None:
            made = entry.codings[coding] = _coded(entry, coding, self.decorate)
            if self.entries.get(key) is entry:
                entry.size += made.size
                self.total_bytes += made.size
                self._evict()
        return made

    def _evict(self) -> None:
        while self.total_bytes > self.max_bytes and self.entries:
            _, gone = self.entries.popitem(last=False)
            self.total_bytes -= gone.size


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the cache and the front door read from a request's headers, in one pass."""

    key: CacheKey
    if_none_match: bytes
    request_id: bytes | None
    has_origin: bool
    accept_encoding: bytes
    #: False: the stack answers (a Host we do not answer for: 400; an Accept we cannot satisfy: 406).
    allowed: bool


def request_facts(scope: Scope, store: ResponseStore) -> RequestFacts:
    inm = accept = host = accept_encoding = b""
    request_id: bytes | None = None
    has_origin = forwarded = False
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            inm = value
        elif name == b"accept":
            accept = value
        elif name == b"host":
            host = value
        elif name == b"accept-encoding":
            accept_encoding = value
        elif name == b"x-request-id":
            if request_id is None:
                request_id = value
        elif name == b"origin":
            has_origin = True
        elif name.startswith(b"x-forwarded-"):
            forwarded = True
    hosts = store.hosts
    base: str | None
    if hosts is None:
        base = ""
    elif "ldnkb.base_url" in scope:
        base = scope["ldnkb.base_url"]
    elif forwarded:
        base = hosts.resolve(scope)
    else:
        base = hosts.base(scope.get("scheme", "http"), host)
    path: str = scope["path"]
    raw: bytes = scope.get("query_string", b"")
    # The canonical query joins the spellings of one request in the store, and is what the route sees of the
    # query on such a path whether or not the store keeps answers; elsewhere the query as sent will do.
    query = store.canonical(raw) if store.canonicalises(path) else raw.decode("latin-1")
    key = (path, query, store.media(path, accept), base or "")
    return RequestFacts(
        key, inm, request_id, has_origin, accept_encoding, base is not None and key[2] != NOT_ACCEPTABLE
    )


def variant_messages(
    variant: Variant, inm: bytes, head: bool, outer: bool, extra: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[int, Message, Message]:
    """The status and the two ASGI messages answering from ``variant``: 304 when ``inm`` matches its ETag,
    else 200 (no body for HEAD); ``outer`` picks the header lists with the security headers."""
    if inm and etag_matches(inm, variant.etag):
        headers = variant.outer_not_modified if outer else variant.not_modified_headers
        start = {"type": "http.response.start", "status": 304, "headers": [*headers, *extra]}
        return 304, start, {"type": "http.response.body", "body": b""}
    headers = variant.outer if outer else variant.headers
    start = {"type": "http.response.start", "status": 200, "headers": [*headers, *extra]}
    return 200, start, {"type": "http.response.body", "body": b"" if head else variant.body}


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
        store = self.store
        facts = request_facts(scope, store)
        key = facts.key
        cacheable = store.caches(scope["path"]) and facts.allowed
        if facts.allowed and store.canonicalises(scope["path"]):
            # The route sees the canonical query, so what it writes (links.self) is the same for every
            # spelling the key joins, and the same with the cache off.
            scope = {**scope, "query_string": key[1].encode("latin-1")}
        if cacheable:
            entry = store.get(key)
            if entry is None and (pending := store.pending.get(key)) is not None:
                await pending.wait()  # the same request is being computed: wait for its answer
                entry = store.get(key)
            if entry is not None:
                await self._send(send, key, entry, facts, head)
                return
            done = store.pending[key] = anyio.Event()
            try:
                await self._compute(scope, receive, send, key, facts, head, cacheable=True)
            finally:
                if store.pending.get(key) is done:
                    del store.pending[key]
                done.set()
            return
        await self._compute(scope, receive, send, key, facts, head, cacheable=False)

    async def _send(self, send: Send, key: CacheKey, entry: Entry, facts: RequestFacts, head: bool) -> None:
        variant = self.store.variant(key, entry, facts.accept_encoding)
        _, start, body = variant_messages(variant, facts.if_none_match, head, outer=False)
        await send(start)
        await send(body)

    async def _compute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: CacheKey,
        facts: RequestFacts,
        head: bool,
        *,
        cacheable: bool,
    ) -> None:
        store = self.store
        version = store.entries_version
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
        entry = store.admit(key, headers, body, scope["path"], self.cache_control, version, cacheable=cacheable)
        await self._send(send, key, entry, facts, head)
