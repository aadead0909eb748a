"""``GET /v1/search``: ranked search across every kind of record (thin: parse, call the service, shape)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.routing import APIRoute
from pydantic import Field
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from app.api.deps import CACHE_BUSTER
from app.api.problems import LIST_ERRORS
from app.api.read_model import holder_of
from app.api.responses import JSON_MEDIA_TYPE, dumps, paging_links
from app.domain.search_text import MAX_QUERY_LENGTH
from app.kinds import KINDS
from app.readmodel.model import ReadModel
from app.schemas.common import Links, ListMeta, Schema
from app.schemas.openapi import CACHE_HEADERS, LINK_HEADER, NOT_MODIFIED
from app.services import search as search_service

router = APIRouter(prefix="/v1")

MAX_LIMIT = 50


#: The kinds of record a search can name: every declared kind (app/kinds), as the OpenAPI enum ``SearchKind``.
SearchKind = StrEnum("SearchKind", [(kind.name.upper(), kind.name) for kind in KINDS])  # type: ignore[misc]


class SearchHit(Schema):
    """One record that answers the query."""

    kind: SearchKind = Field(description="The collection the record belongs to (the first segment of `link`).")
    slug: str = Field(description="The record's slug.", examples=["fibromyalgia"])
    title: str = Field(description="The record's name or title (an indication: condition: regimen).")
    link: str = Field(description="Path of the record in this API: `/v1/{kind}/{slug}`.")
    snippet: str = Field(
        description="HTML-escaped text with each matching word in `<mark>...</mark>`: the first sentence of "
        "the record's text containing a word of `q` (else its first sentence), at most about 220 characters."
    )
    match: Literal["code", "code-header", "code-child", "label", "label-prefix", "label-words", "text", "typo"] = Field(
        description="Why it matched, best first: its own code; an ICD-10-CM header above the code typed; a "
        "code below it; a name, synonym, abbreviation or slug equal to `q`; one starting with `q`; all words "
        "of `q` in those names; the text; only after correcting one letter of a word of five letters or more."
    )


class SearchMeta(ListMeta):
    """Meta of a search: the dataset's, paging counts and the query as understood."""

    query: str = Field(description="`q` with its whitespace collapsed.")


class SearchList(Schema):
    """Ranked hits, best first."""

    data: list[SearchHit] = Field(description="This page of hits.")
    meta: SearchMeta = Field(description="Dataset, paging and query.")
    links: Links = Field(description="This page and the next.")


EXAMPLE: dict[str, Any] = {
    "data": [
        {
            "kind": "conditions",
            "slug": "fibromyalgia",
            "title": "Fibromyalgia",
            "link": "/v1/conditions/fibromyalgia",
            "snippet": "ICD-10-CM <mark>M79.7</mark> Fibromyalgia",
            "match": "code",
        },
        {
            "kind": "indications",
            "slug": "ldn-fibromyalgia",
            "title": "Fibromyalgia: Low-dose naltrexone (LDN)",
            "link": "/v1/indications/ldn-fibromyalgia",
            "snippet": "<mark>M79.7</mark> 203082005",
            "match": "text",
        },
    ],
    "meta": {
        "disclaimer": "Reference information about naltrexone for health professionals and informed readers; ...",
        "licence": "Apache-2.0 (code and curated records); quoted passages remain their sources' copyright.",
        "dataset_version": 1,
        "last_updated": "2026-11-26T12:00:00+00:00",
        "query": "M79.7",
        "total": 2,
        "count": 2,
        "limit": 10,
    },
    "links": {"self": "https://ldn-kb.example/v1/search?q=M79.7", "next": None},
}

OK_RESPONSES: dict[int | str, Any] = {
    200: {
        "model": SearchList,
        "description": "Ranked hits (an empty `data` when nothing matches).",
        "headers": {**CACHE_HEADERS, **LINK_HEADER},
        "content": {"application/json": {"example": EXAMPLE}},
    },
    304: NOT_MODIFIED,
}


DESCRIPTION = f"""Search drugs, conditions, regimens, targets, mechanisms, indications and sources at once.

**What `q` understands.** Words in any case, with or without accents or apostrophes (`crohns` finds
*Crohn's disease*); prefixes (`fibro` finds *fibromyalgia*); hyphenated and spaced forms alike (`TLR-4`,
`TLR4` and `tlr 4`); Greek letters (`μ-opioid`); abbreviations that the records themselves state
(`LDN` finds *low-dose naltrexone*, `MOR` the *mu opioid receptor*); ICD-10-CM codes, including a
billable child code under a header category we list (`K50.90` finds *Crohn's disease* through `K50`);
and SNOMED CT concept ids (`203082005`). Common English words (`for`, `the`, ...) are ignored. Every
word typed must match (AND). **Typos:** a word of five letters or more also matches words one edit away
(a letter missing, added, changed, or two neighbours swapped), at any point of the word (`fibromyalga` and
`fibromyagl` find *fibromyalgia*); such hits come after every hit without a correction, with `match`
`typo`, and the corrected words are marked in the snippet.

**Ranking**, best first: the record's own code (exact, then a header above the code typed, then a code
below it); a name, synonym, abbreviation or slug equal to `q`; one starting with `q`; every word of `q`
in those names; otherwise the text (records with more of `q` in their names first); then the typo hits,
in the same order among themselves. Ties go by kind
(drugs, conditions, regimens, targets, mechanisms, indications, sources), then slug. SQLite and
PostgreSQL stores give the same hits in the same order.

**Each hit** has `kind` (the collection), `slug`, `title`, `link` (`/v1/{{kind}}/{{slug}}`), `match`
(why it matched: `code`, `code-header`, `code-child`, `label`, `label-prefix`, `label-words`, `text`,
`typo`)
and `snippet`: the first sentence of the record's text that contains a word of `q`, **HTML-escaped,
with each matching word wrapped in `<mark>`**, cut to about 220 characters with `…`; without such a
sentence, the first sentence of the text, unmarked.

`meta.total` counts all hits; page with `limit` (1–{MAX_LIMIT}) and `links.next`. No hit is a 200 with an
empty `data`. An empty `q`, one over {MAX_QUERY_LENGTH} characters or one with no letter or digit is a 422.
"""


@router.get(
    "/search",
    operation_id="search",
    tags=["search"],
    summary="Search the knowledge base",
    description=DESCRIPTION,
    responses={**OK_RESPONSES, **LIST_ERRORS},
)
async def search(
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="What to look for: words, prefixes, abbreviations, an ICD-10-CM or SNOMED CT code.",
            examples=["LDN", "fibro", "TLR-4", "M79.7"],
        ),
    ],
    kind: Annotated[
        list[SearchKind] | None, Query(description="Only these kinds (repeat the parameter for several).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Hits per page (1–{MAX_LIMIT}).")] = 10,
    cursor: Annotated[
        str | None, Query(max_length=512, description="Opaque cursor from `links.next` of the previous page.")
    ] = None,
) -> Response:
    return await respond(request, q=q, kinds=[k.value for k in kind or []], limit=limit, cursor=cursor)


async def respond(request: Request, *, q: str, kinds: list[str], limit: int, cursor: str | None) -> Response:
    """The answer of ``GET /v1/search``, for the documented route and :class:`SearchShortcut` alike.

    Answered from the app's in-memory index of its read model: no database work per query
    (async: pure CPU in tens of microseconds, cheaper on the event loop than a trip to the threadpool)."""
    model = await holder_of(request).get()
    indexes: search_service.SearchIndexes = request.app.state.search_indexes
    searchable = indexes.ready(model) or await indexes.get(model)
    return search_response(request, searchable, q=q, kinds=kinds, limit=limit, cursor=cursor)


def search_response(
    request: Request,
    searchable: search_service.Searchable,
    *,
    q: str,
    kinds: list[str],
    limit: int,
    cursor: str | None,
) -> Response:
    """The search answer from an index (synchronous: no I/O); ProblemError for a query it cannot take."""
    result = search_service.search(searchable, q=q, limit=limit, cursor=cursor, kinds=kinds)
    links, headers = paging_links(request, result.next_cursor)
    body = {
        "data": result.hits,
        "meta": {
            **searchable.meta,
            "query": result.query,
            "total": result.total,
            "count": len(result.hits),
            "limit": result.limit,
        },
        "links": links,
    }
    return Response(dumps(body), media_type=JSON_MEDIA_TYPE, headers=headers)


_KINDS = frozenset(k.value for k in SearchKind)
#: ``q=...`` alone, of characters that percent-decoding leaves as they are (as parse_qsl would read it).
_ONLY_Q = re.compile(rb"q=([A-Za-z0-9_.~-]{1,%d})" % MAX_QUERY_LENGTH)
_PATH = router.prefix + "/search"


def _plain_params(query_string: bytes) -> tuple[str, list[str], int, str | None] | None:
    """(q, kinds, limit, cursor) when the query is one the documented route would accept as it stands,
    else None (the documented route then answers, with its own validation and errors)."""
    simple = _ONLY_Q.fullmatch(query_string)
    if simple is not None:  # what a search box sends: q alone, nothing to decode
        return simple.group(1).decode("ascii"), [], 10, None
    q: str | None = None
    cursor: str | None = None
    limit = 10
    kinds: list[str] = []
    seen: set[str] = set()
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
        if "\x00" in value or (name in seen and name != "kind"):
            return None
        seen.add(name)
        if name == "q":
            if not 1 <= len(value) <= MAX_QUERY_LENGTH:
                return None
            q = value
        elif name == "kind":
            if value not in _KINDS:
                return None
            kinds.append(value)
        elif name == "limit":
            if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
                return None
            limit = int(value)
        elif name == "cursor":
            if len(value) > 512:
                return None
            cursor = value
        elif name != CACHE_BUSTER:
            return None
    return None if q is None else (q, kinds, limit, cursor)


class SearchShortcut(BaseRoute):
    """``GET /v1/search`` with plain, valid parameters, answered without FastAPI's dependency solving and
    parameter validation (about half of a search's time): the same :func:`respond`, inside the same
    middleware, so headers, metrics, logs and problem+json errors are the documented route's. Anything
    else (an unknown or repeated parameter, a value out of range) goes to the documented route."""

    def __init__(self) -> None:
        self.documented = next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is search)
        #: The documented route's template: what metrics, logs and telemetry label this request with.
        self.path = self.path_format = _PATH
        self.answered = 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["path"] != _PATH or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        params = _plain_params(scope.get("query_string", b""))
        if params is None:
            return Match.NONE, {}
        return Match.FULL, {"endpoint": search, "route": self.documented, SHORTCUT_PARAMS: params}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        q, kinds, limit, cursor = scope[SHORTCUT_PARAMS]
        self.answered += 1
        response = await respond(Request(scope, receive), q=q, kinds=kinds, limit=limit, cursor=cursor)
        await response(scope, receive, send)

    def answer_now(self, scope: Scope, model: ReadModel, indexes: search_service.SearchIndexes) -> Response | None:
        """A plain search answered from the index of ``model`` here and now (no I/O), or None: not a plain
        search, or the index of that model not built yet (the documented route builds it). Raises
        ProblemError for a query that has nothing searchable."""
        if scope["path"] != _PATH:
            return None
        params = _plain_params(scope.get("query_string", b""))
        searchable = indexes.ready(model)
        if params is None or searchable is None:
            return None
        q, kinds, limit, cursor = params
        return search_response(Request(scope), searchable, q=q, kinds=kinds, limit=limit, cursor=cursor)


#: The scope key carrying the parsed parameters from :meth:`SearchShortcut.matches` to its handler.
SHORTCUT_PARAMS = "ldnkb.search_params"
