"""The read model: every record of one content version, represented once, immutable.

Built by app/readmodel/build.py from the store; held per app by app/readmodel/holder.py. Lists, filters,
sorts, paging and details are answered from it with no query; the integrations read the same model
(records, dose ranges, search sources) through the accessors below. Nothing here changes after
:meth:`ReadModel.create`: a new content version is a new model.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.domain.dosing import RangeSpec
from app.errors import NotFoundError, ProblemError
from app.etag import strong_etag
from app.kinds import KINDS, Kind, search_sources
from app.kinds.base import Record, SearchSource, SortValue, timestamp
from app.readmodel.cursor import CursorCodec, Position, filters_digest
from app.services.dataset import DatasetInfo, dataset_meta

#: Which store and which content a model holds: (engine URL without password, content version, content hash).
ModelKey = tuple[str, int, str]
_Key = tuple[SortValue, str]
#: The cursor's filters digest of a page asked with no filter (the same for every unfiltered page).
_NO_FILTERS_DIGEST = filters_digest({})


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


@dataclass(frozen=True, slots=True)
class DoseRangeFact:
    """One source's dose range, with what decision support shows of it (for app/services/dose_check.py).

    ``spec`` is the range as the domain's arithmetic reads it (exact Decimals); ``display``, ``quote``,
    ``verification``, ``is_reference`` and ``source`` (a citation) are as the regimen representation
    serves them; ``regimen`` is the regimen's summary (slug, name, band, route, approval, population).
    """

    spec: RangeSpec
    display: str
    quote: str | None
    verification: str
    is_reference: bool
    note: str | None
    source: dict[str, Any]
    regimen: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request, already validated: sort (``name`` or ``-name``), filter values by name (None:
    absent), ``updated_since``, page size and cursor."""

    sort: str
    filters: Mapping[str, Any]
    updated_since: datetime | None
    limit: int
    cursor: str | None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page: the records' indices into their collection, the count over all pages, the next cursor."""

    collection: Collection
    indices: tuple[int, ...]
    total: int
    limit: int
    next_cursor: str | None

    @property
    def records(self) -> list[Record]:
        return [self.collection.records[i] for i in self.indices]

    def answer(self, rest: bytes) -> bytes:
        """``{"data":[`` the page's items ``]`` then ``rest``: joined from each record's bytes (nothing
        re-serialised), the page's 100 KB copied once."""
        items = self.collection.item_json
        chosen = [items[i] for i in self.indices]
        if not chosen:
            return b'{"data":[]' + rest
        chosen[0] = b'{"data":[' + chosen[0]
        chosen[-1] = chosen[-1] + b"]" + rest
        return b",".join(chosen)

    def etag(self, rest: bytes) -> str:
        """A strong ETag for the :meth:`answer` with ``rest`` (what follows it: meta, links).

        The SHA-256 of the items' own digests (made with the model) and ``rest``: a function of the answer's
        bytes alone, as a tag of the whole body would be (the same bytes, the same tag on every instance),
        without hashing 100 KB per page."""
        digests = self.collection.item_digests
        joined = b"".join([digests[i] for i in self.indices])
        return '"' + hashlib.sha256(joined + b"\x00" + rest).hexdigest()[:32] + '"'


@dataclass(frozen=True, slots=True)
class Collection:
    """The records of one kind in slug order, their JSON bytes, their sort keys and sorted orders."""

    kind: Kind
    records: tuple[Record, ...]
    item_json: tuple[bytes, ...]
    item_digests: tuple[bytes, ...]  # SHA-256 of each item's bytes (list ETags are made of them)
    detail_json: Mapping[str, bytes]  # slug -> the whole single-record answer {"data": ..., "meta": ...}
    detail_etags: Mapping[str, str]  # slug -> that answer's strong ETag
    index: Mapping[str, int]
    keys: Mapping[str, tuple[_Key, ...]]  # sort field -> (value, slug) per record
    orders: Mapping[str, tuple[int, ...]]  # sort field -> record indices in ascending (value, slug) order
    sorted_keys: Mapping[str, tuple[_Key, ...]]  # sort field -> the keys in that order (for bisecting cursors)
    updated: tuple[datetime, ...]

    @classmethod
    def create(cls, kind: Kind, records: Sequence[Record], meta_json: bytes) -> Collection:
        ordered = tuple(sorted(records, key=lambda r: str(r["slug"])))
        item_json = tuple(dumps(r) for r in ordered)
        details = {
            str(r["slug"]): b'{"data":' + j + b',"meta":' + meta_json + b"}"
            for r, j in zip(ordered, item_json, strict=True)
        }
        keys: dict[str, tuple[_Key, ...]] = {}
        orders: dict[str, tuple[int, ...]] = {}
        for f in kind.sort_fields:
            keys[f.name] = tuple((f.value(r), str(r["slug"])) for r in ordered)
            orders[f.name] = tuple(sorted(range(len(ordered)), key=keys[f.name].__getitem__))
        return cls(
            kind=kind,
            records=ordered,
            item_json=item_json,
            item_digests=tuple(hashlib.sha256(j).digest() for j in item_json),
            detail_json=details,
            detail_etags={slug: strong_etag(body).decode() for slug, body in details.items()},
            index={str(r["slug"]): i for i, r in enumerate(ordered)},
            keys=keys,
            orders=orders,
            sorted_keys={name: tuple(keys[name][i] for i in order) for name, order in orders.items()},
            updated=tuple(timestamp(r.get("updated_at")) for r in ordered),
        )

    def get(self, slug: str) -> Record:
        i = self.index.get(slug)
        if i is None:
            raise NotFoundError(self.kind.singular, slug)
        return self.records[i]

    def detail(self, slug: str) -> bytes:
        body = self.detail_json.get(slug)
        if body is None:
            raise NotFoundError(self.kind.singular, slug)
        return body

    def etag(self, slug: str) -> str:
        """The strong ETag of :meth:`detail` (the same tag the response cache would compute from its bytes)."""
        tag = self.detail_etags.get(slug)
        if tag is None:
            raise NotFoundError(self.kind.singular, slug)
        return tag

    def matching(self, filters: Mapping[str, Any], updated_since: datetime | None = None) -> list[int]:
        """Indices (slug order) of the records every given filter admits."""
        active = [
            (f.match, filters[f.name])
            for f in self.kind.filters
            if f.match is not None and filters.get(f.name) is not None
        ]
        out = []
        for i, record in enumerate(self.records):
            if updated_since is not None and self.updated[i] < updated_since:
                continue
            if all(match(record, value, filters) for match, value in active):
                out.append(i)
        return out

    def page(self, query: ListQuery, codec: CursorCodec) -> ListPage:
        descending = query.sort.startswith("-")
        name = query.sort.lstrip("-")
        field_ = self.kind.sort_field(name)
        keys = self.keys[name]
        unfiltered = query.updated_since is None and all(v is None for v in query.filters.values())
        ascending: Sequence[int]
        if unfiltered:  # the usual page: the whole sorted order, no pass over the records
            ascending = self.orders[name]
            total = len(ascending)
            digest = _NO_FILTERS_DIGEST
        else:
            admitted = set(self.matching(query.filters, query.updated_since))
            ascending = [i for i in self.orders[name] if i in admitted]
            total = len(admitted)
            digest = filters_digest({**query.filters, "updated_since": query.updated_since})
        start = 0
        if query.cursor:
            at = codec.decode(
                query.cursor, resource=self.kind.name, sort=query.sort, filters=digest, sort_type=field_.type
            )
            sorted_keys = self.sorted_keys[name] if unfiltered else [keys[i] for i in ascending]
            bound = (at.value, at.slug)
            if descending:
                ascending = ascending[: bisect.bisect_left(sorted_keys, bound)]
            else:
                start = bisect.bisect_right(sorted_keys, bound)
        remaining = ascending[::-1] if descending else ascending[start:]
        chosen = tuple(remaining[: query.limit])
        next_cursor = None
        if len(remaining) > query.limit and chosen:
            value, slug = keys[chosen[-1]]
            next_cursor = codec.encode(self.kind.name, query.sort, digest, Position(value, slug))
        return ListPage(self, chosen, total, query.limit, next_cursor)


@dataclass(frozen=True, slots=True)
class ReadModel:
    """Everything the read side serves for one content version of one store."""

    key: ModelKey
    info: DatasetInfo
    meta: Mapping[str, Any]
    collections: Mapping[str, Collection]
    dose_ranges: tuple[DoseRangeFact, ...]
    search_sources: tuple[SearchSource, ...]
    build_seconds: float = 0.0

    @classmethod
    def create(
        cls,
        key: ModelKey,
        info: DatasetInfo,
        records: Mapping[str, Sequence[Record]],
        dose_ranges: Sequence[DoseRangeFact],
        build_seconds: float = 0.0,
    ) -> ReadModel:
        meta = dataset_meta(info)
        meta_json = dumps(meta)
        collections = {k.name: Collection.create(k, records.get(k.name, ()), meta_json) for k in KINDS}
        search = search_sources({name: c.records for name, c in collections.items()})
        return cls(key, info, meta, collections, tuple(dose_ranges), search, build_seconds)

    @property
    def content_version(self) -> int:
        return self.info.content_version

    def collection(self, kind: str) -> Collection:
        return self.collections[kind]

    def records(self, kind: str) -> tuple[Record, ...]:
        """Every record of ``kind`` (e.g. ``"regimens"``), represented as /v1 serves it, in slug order.

        What FHIR's mapping (``all_resources(base, drugs, regimens, mechanisms, indications, ...)``,
        ``code_systems(base, targets, ...)``) and Infobutton read. Treat them as read-only."""
        return self.collections[kind].records

    def record(self, kind: str, slug: str) -> Record:
        return self.collections[kind].get(slug)

    def select(self, kind: str, **filters: Any) -> list[Record]:
        """The records of ``kind`` that the list filters admit, in slug order, e.g.
        ``select("indications", code="M79.7")`` or ``select("mechanisms", regimen="low-dose-naltrexone")``."""
        collection = self.collections[kind]
        known = {f.name for f in collection.kind.filters}
        unknown = sorted(set(filters) - known)
        if unknown:
            raise ProblemError("bad-request", f"Unknown filter(s) of {kind}: {', '.join(unknown)}.")
        return [collection.records[i] for i in collection.matching(filters)]

    @property
    def range_specs(self) -> tuple[RangeSpec, ...]:
        """Every dose range as the domain's dose arithmetic reads it (regimen slug order, curated order)."""
        return tuple(d.spec for d in self.dose_ranges)
