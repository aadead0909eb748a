"""The CDS service call without FastAPI's per-request dependency solving and body validation.

An EHR calls ``POST /cds-services/{id}`` on every order it signs, each time with a new ``hookInstance``, so
nothing can be cached: the answer is computed per call. Most of that call's time went to FastAPI's routing,
dependency solving and body validation, not to the cards (about 160 of 210 µs in process). This route,
placed first in the app's router, answers the plain case itself: a known service, no query string, a
``Content-Type: application/json`` body that parses and validates, and no JWT check configured. It parses
the body as FastAPI does (``json.loads``'s value, read faster by app/api/json_body.py; then the same
model), and answers with the same function as the documented route
(:func:`~app.integrations.cds_hooks.router.answer_call`), inside the same middleware, so the headers,
metrics, logs and problem+json errors are those of the documented route.

Every other call, and any body that does not parse or validate, goes to the documented route with the
body replayed, so its errors (422 with FastAPI's field locations, 401, 404) are produced there, unchanged.
A body nested deeper than the JSON parser goes is answered here, with a 400 problem (never a 500).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from app.api.json_body import loads
from app.api.media import plain_json
from app.api.shortcuts import replay
from app.errors import ProblemError, problem_response
from app.integrations.cds_hooks.router import SERVICES, CdsRequest, answer_call, call_service, router
from app.readmodel import ReadModel

#: Set on a request's scope when the shortcut hands it to the documented route.
DECLINED = "ldnkb.cds_shortcut_declined"
_PREFIX = router.prefix + "/"


class CdsCallShortcut(BaseRoute):
    """Matches the plain service calls of ``POST /cds-services/{service_id}`` (see the module's docstring)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.documented = next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is call_service)
        #: The documented route's template: what metrics, logs and telemetry label this request with.
        self.path = self.path_format = router.prefix + "/{service_id}"
        #: Calls answered here since start-up.
        self.answered = 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["query_string"] or DECLINED in scope:
            return Match.NONE, {}
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        if not path.startswith(_PREFIX):
            return Match.NONE, {}
        service_id = path[len(_PREFIX) :]
        if service_id not in SERVICES or not plain_json(scope["headers"]):
            return Match.NONE, {}
        if self.app.state.settings.cds_trusted_issuers:  # the JWT check lives in the documented route
            return Match.NONE, {}
        return Match.FULL, {
            "endpoint": call_service,
            "path_params": {"service_id": service_id},
            "route": self.documented,
        }

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()  # kept on the request, which answer_call reads
        try:
            body = CdsRequest.model_validate(loads(raw))
        except RecursionError:  # JSON nested deeper than the parser goes: a 400, never a 500
            self.answered += 1
            response = problem_response(
                "bad-request", "The JSON body nests too deeply to be read.", scope.get("path", "")
            )
            await response(scope, receive, send)
            return
        except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            scope[DECLINED] = True
            await self.app.router.app(scope, replay(raw, receive), send)
            return
        self.answered += 1  # a problem raised below (a 400) is this path's answer too
        answer = await answer_call(scope["path_params"]["service_id"], body, request)
        await answer(scope, receive, send)

    async def answer_now(self, scope: Scope, raw: bytes, model: ReadModel) -> Response | None:
        """The front door's call (app/api/front_door_posts.py): the cards for a body already read, from
        ``model``; None when the body does not parse or validate, or the call is a problem (the stack
        answers those as documented)."""
        try:
            body = CdsRequest.model_validate(loads(raw))
        except (ValueError, ValidationError, RecursionError):
            return None
        try:
            answer = await answer_call(scope["path_params"]["service_id"], body, Request(scope), model)
        except ProblemError:
            return None
        self.answered += 1
        return answer
