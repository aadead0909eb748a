"""The HTTP/1.1 protocol ``ldn-kb serve`` runs: uvicorn's httptools protocol with limits of its own.

uvicorn's httptools protocol bounds neither the request line nor the header section (a 16 MB header was
read), and gives a connection that sends its headers slowly all the time it wants. This subclass:

* answers 414 to a request target longer than ``LDNKB_MAX_URL_BYTES`` and 431 to a header section larger
  than ``LDNKB_MAX_HEADER_BYTES``, as problem+json, as soon as the limit is passed while parsing;
* answers 408 and closes a connection whose request line and headers have not all arrived
  ``LDNKB_HEADER_READ_TIMEOUT`` seconds after the connection opened or the request began (slowloris);
* answers a request it cannot parse with a problem+json 400 (uvicorn's own is text/plain);
* writes a response's status line and headers with :class:`CheckedHeadCycle`: uvicorn checks every header
  name and value with two regular expressions on every response (about 10 of a cached answer's 60 µs,
  with the security and CORS headers every answer carries); the same checks are made once per header
  line and remembered, and the head goes out with the body in one write.

Every such answer closes the connection. Idle keep-alive connections are closed by uvicorn
(``timeout_keep_alive``); slow bodies by the request guard (:mod:`app.api.limits`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn._types import ASGI3Application, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from app.errors import PROBLEM_TYPES, problem_body
from app.settings import get_settings


class _Refused(Exception):
    pass


_VERSIONS = frozenset({"1.0", "1.1"})


def problem_bytes(status_slug: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    problem = PROBLEM_TYPES[status_slug]
    body = orjson.dumps(problem_body(problem, detail, ""))
    head = [
        STATUS_LINE[problem.status],
        b"content-type: application/problem+json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"x-content-type-options: nosniff\r\n",
        b"cache-control: no-store\r\n",
        b"connection: close\r\n",
        b"\r\n",
    ]
    return b"".join(head) + body


#: Header lines already checked, by their (name, value) pair as the app sends it: the security, CORS and
#: content headers repeat on every answer. Bounded: emptied when full (each line is checked again once).
_CHECKED_LINES: dict[tuple[bytes, bytes], bytes] = {}
CHECKED_LINES_KEPT = 4096


def head_lines(headers: list[tuple[bytes, bytes]]) -> tuple[list[bytes], int | None] | None:
    """The header lines as uvicorn writes them (``name: value``, the name lowercased) and the first
    ``content-length``; None when uvicorn's own writing is needed: a name or value it refuses (it raises
    its error), a ``transfer-encoding`` or ``connection`` header (whose handling depends on their order),
    a header not given as a pair of bytes."""
    checked = _CHECKED_LINES
    lines: list[bytes] = []
    length: int | None = None
    for pair in headers:
        line = checked.get(pair) if type(pair) is tuple else None
        if line is None:
            if type(pair) is not tuple or len(pair) != 2:
                return None
            name, value = pair
            if type(name) is not bytes or type(value) is not bytes:
                return None
            if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
                return None
            lowered = name.lower()
            line = lowered + b": " + value + b"\r\n"
            if lowered == b"content-length":  # differs per answer: not kept
                if length is None:
                    length = int(value.decode())
            elif lowered == b"transfer-encoding" or lowered == b"connection":
                return None
            elif lowered == b"x-request-id":  # new on every request: keeping it would only push the others out
                pass
            else:
                if len(checked) >= CHECKED_LINES_KEPT:
                    checked.clear()
                checked[pair] = line
        lines.append(line)
    return lines, length


class CheckedHeadCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, writing the status line and headers from :func:`head_lines`: the
    same bytes and the same state as :meth:`RequestResponseCycle.send` (the tests compare the two), with
    each header line checked once. The head is written with the body, in one write, when the body comes
    whole right after it (every answer of this app but a stream): one system call an answer instead of
    two. Whatever :func:`head_lines` declines, and every other message, is uvicorn's own ``send``; an app
    that fails between the head and the body closes the connection without the head (uvicorn would have
    written it before closing)."""

    #: The status line and headers of the answer started, not yet written.
    pending: bytes | None = None

    async def send(self, message: ASGISendEvent) -> None:
        pending = self.pending
        if pending is not None:
            self.pending = None
            if self.disconnected:
                return  # as uvicorn's send: nothing more is written to a connection the client closed
            if (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and not self.chunked_encoding
                and self.scope["method"] != "HEAD"
                and len(body := message.get("body", b"")) == self.expected_content_length
                and not self.flow.write_paused
            ):
                self.expected_content_length = 0
                self.transport.writelines((pending, body))
                self.response_complete = True
                self.message_event.set()
                if not self.keep_alive:
                    self.transport.close()
                self.on_response()
                return
            self.transport.write(pending)
            await super().send(message)
            return
        if (
            self.response_started
            or message["type"] != "http.response.start"
            or self.access_log
            or self.disconnected
            or self.flow.write_paused
        ):
            await super().send(message)
            return
        status_code = message["status"]
        head = head_lines([*self.default_headers, *message.get("headers", ())])
        if head is None or status_code not in STATUS_LINE:
            await super().send(message)
            return
        lines, length = head
        self.response_started = True
        self.waiting_for_100_continue = False
        if length is not None:
            self.expected_content_length = length
            self.chunked_encoding = False
        if not self.keep_alive:
            lines.append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status_code not in (204, 304):
            self.chunked_encoding = True
            lines.append(b"transfer-encoding: chunked\r\n")
        lines.append(b"\r\n")
        self.pending = STATUS_LINE[status_code] + b"".join(lines)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.max_url = settings.max_url_bytes
        self.max_headers = settings.max_header_bytes
        self.header_timeout = settings.header_read_timeout
        self.header_bytes = 0
        self.refusal: tuple[str, str] | None = None
        self.header_timer: asyncio.TimerHandle | None = None
        #: When the head being read must have arrived (``loop.time()``); None while no head is being read.
        self.head_deadline: float | None = None
        # Bytes received while a request's head is incomplete: httptools gathers a header's value in memory
        # before it calls on_header, so a huge header is cut off here, by the bytes that carry it.
        self.reading_head = True
        self.head_bytes = 0
        self.head_limit = self.max_url + self.max_headers + 1024
        #: A refusal (400, 414, 431, 505) of bytes that came after requests still being answered: written,
        #: and the connection closed, once their answers are out, never in their place.
        self.deferred_refusal: bytes | None = None

    def _arm(self) -> None:
        """The head must arrive within the timeout from now. One timer a connection: a timer still pending
        (set for an earlier head) finds the new deadline when it fires and waits on, so a request on a
        kept-alive connection neither creates nor cancels one."""
        self.head_deadline = self.loop.time() + self.header_timeout
        if self.header_timer is None:
            self.header_timer = self.loop.call_at(self.head_deadline, self._headers_too_slow)

    def _disarm(self) -> None:
        self.head_deadline = None  # the head arrived: a pending timer finds nothing to refuse

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        deadline = self.head_deadline
        if deadline is None or self.transport.is_closing():
            return
        if self.loop.time() < deadline:  # another head began since this timer was set
            self.header_timer = self.loop.call_at(deadline, self._headers_too_slow)
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # an answer is being written: never interleave with it; look again later
            return
        detail = f"The request line and headers did not arrive within {self.header_timeout:g} s."
        self.transport.write(problem_bytes("request-timeout", detail))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.reading_head and not self.transport.is_closing():  # this data did not complete the head
            self.head_bytes += len(data)
            if self.head_bytes > self.head_limit:
                self.refusal = ("headers-too-large", f"The request's headers are larger than {self.max_headers} bytes.")
                self.send_400_response("")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.head_bytes = 0
        self.header_bytes = 0
        self.refusal = None
        self._arm()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.max_url:
            self.refusal = ("uri-too-long", f"The request target is longer than {self.max_url} bytes.")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > self.max_headers:
            self.refusal = ("headers-too-large", f"The request's headers are larger than {self.max_headers} bytes.")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._disarm()
        version = self.parser.get_http_version()
        if version not in _VERSIONS:
            self.refusal = (
                "http-version-not-supported",
                f"This server speaks HTTP/1.1 (and 1.0), not HTTP/{version}.",
            )
            raise _Refused
        super().on_headers_complete()

    def _answering(self) -> bool:
        """Whether a request of this connection is still being answered (its own, or one pipelined behind it)."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        refusal = self.deferred_refusal
        if refusal is not None and not self._answering() and not self.transport.is_closing():
            self.deferred_refusal = None
            self.transport.write(refusal)
            self.transport.close()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # Every cycle starts here, pipelined ones included, before its task first runs: from now on its
        # ``send`` is CheckedHeadCycle's (a subclass whose one attribute of its own has a class default).
        cycle.__class__ = CheckedHeadCycle
        super()._start_asgi_task(cycle, app)

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        slug, detail = self.refusal or ("bad-request", "The request is not valid HTTP/1.1.")
        self.refusal = None
        if self.deferred_refusal is not None:
            return  # the first refusal of this connection stands; what follows it is not read
        if self._answering():  # valid requests came before these bytes: their answers first
            self.deferred_refusal = problem_bytes(slug, detail)
            self.flow.pause_reading()  # (the answers keep their own keep-alive: closing is this refusal's)
            return
        self.transport.write(problem_bytes(slug, detail))
        self.transport.close()
