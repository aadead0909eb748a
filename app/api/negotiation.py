"""Pure ASGI middleware: 406 for an ``Accept`` that admits no JSON, 415 for a POST body that is not JSON.

It answers before routing, with the same RFC 9457 envelope as every other error. The hot path is a
scan of the request headers and, for the common ``Accept`` values (absent, ``*/*``,
``application/json``), no parsing at all; other values are parsed once and the verdict remembered.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.media import JSON_BODY_PREFIXES, body_refusal, declares_body
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problem_body

# The media types every /v1 route can answer in: its JSON body or a problem+json error.
OFFERED: tuple[tuple[str, str], ...] = (("application", "json"), ("application", "problem+json"))

_ALWAYS_ACCEPTABLE = frozenset({b"", b"*/*", b"application/json", b"application/problem+json"})
_VERDICTS_MAX = 256


def plainly_acceptable(accept: bytes) -> bool:
    """Whether an ``Accept`` value admits JSON without parsing (absent, ``*/*``, the JSON types themselves)."""
    return accept in _ALWAYS_ACCEPTABLE


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def accepts_json(accept: str) -> bool:
    """Whether an ``Accept`` header admits application/json or application/problem+json (RFC 9110 §12.5.1).

    For each offered type the most specific matching media range decides its quality; ``q=0`` refuses.
    """
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = part.split(";")
        kind, _, sub = media.strip().lower().partition("/")
        if not kind or not sub:
            continue
        ranges.append((kind, sub, _quality(params)))
    if not ranges:
        return True  # an empty or unparsable header is treated as absent
    for kind, sub in OFFERED:
        best: tuple[int, float] | None = None
        for r_kind, r_sub, q in ranges:
            if r_kind == kind and r_sub == sub:
                specificity = 2
            elif r_kind == kind and r_sub == "*":
                specificity = 1
            elif r_kind == "*" and r_sub == "*":
                specificity = 0
            else:
                continue
            if best is None or specificity > best[0]:
                best = (specificity, q)
        if best is not None and best[1] > 0:
            return True
    return False


def _problem(
    slug: str, detail: str, path: str, extra: list[tuple[bytes, bytes]]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    problem = PROBLEM_TYPES[slug]
    body = orjson.dumps(problem_body(problem, detail, path))
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    return problem.status, headers, body


class NegotiationMiddleware:
    """406 on ``negotiated_prefixes`` when Accept admits no JSON; 415 on POSTs under ``json_body_prefixes``
    whose body is not JSON (a POST without a body and without a Content-Type is left to the route)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        negotiated_prefixes: tuple[str, ...] = ("/v1/",),
        json_body_prefixes: tuple[str, ...] = JSON_BODY_PREFIXES,
    ) -> None:
        self.app = app
        self.negotiated_prefixes = negotiated_prefixes
        self.json_body_prefixes = json_body_prefixes
        self._verdicts: dict[bytes, bool] = {}

    def _acceptable(self, accept: bytes) -> bool:
        if plainly_acceptable(accept):
            return True
        verdict = self._verdicts.get(accept)
        if verdict is None:
            verdict = accepts_json(accept.decode("latin-1"))
            if len(self._verdicts) < _VERDICTS_MAX:
                self._verdicts[accept] = verdict
        return verdict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        negotiated = path.startswith(self.negotiated_prefixes)
        checks_body = method == "POST" and path.startswith(self.json_body_prefixes)
        if not negotiated and not checks_body:
            await self.app(scope, receive, send)
            return
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value if not accept else accept + b"," + value
        has_body = declares_body(scope["headers"])
        answer = None
        if negotiated and not self._acceptable(accept):
            answer = _problem(
                "not-acceptable",
                f"This resource is only available as application/json (errors as {PROBLEM_MEDIA_TYPE}); "
                f"the Accept header admits neither.",
                path,
                [(b"vary", b"Accept")],
            )
        elif checks_body and (refused := body_refusal(scope["headers"], has_body=has_body)) is not None:
            answer = _problem(
                "unsupported-media-type",
                f"{method} {path} takes application/json, {refused}.",
                path,
                [(b"accept-post", b"application/json"), (b"accept-encoding", b"identity")],
            )
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
