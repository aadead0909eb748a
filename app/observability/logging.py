"""Logs as one JSON object per line (or plain text), for our loggers, uvicorn's and the access log.

Ordinary records go through the standard library: :class:`JsonFormatter` renders them with orjson.
The access log, one line per request, skips the ``LogRecord`` machinery: :class:`AccessLog` builds a
small dict, serialises it with orjson and writes a batch of lines to stderr in one call.

Nothing here ever logs a request body, a query string, a header value other than the request id, an
API key or a token: extra fields whose name looks like a credential are redacted.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]

ACCESS_LOGGER = "ldn_kb.access"

#: The id of the request being served, set by the instrumentation middleware; ``None`` outside requests.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ldn_kb_request_id", default=None)

_RESERVED = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message", "taskName"}
)
_SENSITIVE = re.compile(r"authori[sz]ation|api[_-]?key|token|secret|password|passwd|cookie|jwt|credential", re.I)
REDACTED = "[redacted]"


class _Clock:
    """ISO 8601 UTC timestamps with milliseconds; the part up to the second is formatted once a second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def iso(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"


_clock = _Clock()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, request_id (when inside a request), extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": _clock.iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            out["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key in _RESERVED or key.startswith("_"):
                continue
            out[key] = REDACTED if _SENSITIVE.search(key) else _jsonable(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """``timestamp level logger [request id] message`` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = request_id_var.get()
        rid = f" [{request_id}]" if request_id else ""
        line = f"{_clock.iso(record.created)} {record.levelname:<7} {record.name}{rid} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def logging_config(level: str = "info", fmt: LogFormat = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service, uvicorn's loggers included (pass it to uvicorn.run).

    Everything goes to stderr through one handler. ``uvicorn.access`` is silenced: the service writes its
    own access line per request (see :class:`AccessLog`).
    """
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"service": {"()": "app.observability.logging.formatter_for", "fmt": fmt}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "service", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "ldn_kb": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
    }


#: One finished request: (wall-clock time, request id, method, route template, status, seconds taken).
RequestRecord = tuple[float, str, str, str, int, float]


class AccessLog:
    """One line per request, written to ``stream`` (stderr by default, looked up at each write).

    :meth:`write` takes a batch of finished requests (the
    :class:`~app.observability.observer.RequestObserver` collects them) and writes their lines with one
    call. Enabled when the setting ``LDNKB_ACCESS_LOG`` is true and the ``ldn_kb.access`` logger accepts
    INFO (so ``LDNKB_LOG_LEVEL=warning`` silences it too, and an app without logging configured stays quiet).
    """

    __slots__ = ("enabled", "fmt", "logger", "stream")

    def __init__(self, *, enabled: bool, fmt: LogFormat = "json", stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.fmt = fmt
        self.stream = stream
        self.logger = logging.getLogger(ACCESS_LOGGER)

    def active(self) -> bool:
        return self.enabled and self.logger.isEnabledFor(logging.INFO)

    def write(self, records: list[RequestRecord]) -> None:
        if not records:
            return
        line = self._json_line if self.fmt == "json" else self._text_line
        stream = self.stream or sys.stderr
        stream.write("".join([line(record) for record in records]))
        stream.flush()

    @staticmethod
    def _json_line(record: RequestRecord) -> str:
        at, request_id, method, route, status, seconds = record
        return (
            orjson.dumps(
                {
                    "timestamp": _clock.iso(at),
                    "level": "info",
                    "logger": ACCESS_LOGGER,
                    "message": "request",
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                }
            ).decode()
            + "\n"
        )

    @staticmethod
    def _text_line(record: RequestRecord) -> str:
        at, request_id, method, route, status, seconds = record
        duration_ms = round(seconds * 1000, 3)
        return f"{_clock.iso(at)} INFO    {ACCESS_LOGGER} [{request_id}] {method} {route} {status} {duration_ms}ms\n"
