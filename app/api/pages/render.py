"""A record as /v1 serves it, rendered as accessible, printable HTML (pure: records in, markup out).

The page shows the fields a reader looks for first in a fixed order (summaries, warnings, the drug's
contraindications, each source's dose range with its verification, the evidence and its direction, the
studies, the sources), then every remaining field in a definition list, so a field added to a record
later still reaches its page. A nested record (``{"slug": ..., ...}`` under a known key) links to its
own page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from app.domain.disclaimer import SHORT_DISCLAIMER
from app.kinds import KINDS

DISCLAIMER = SHORT_DISCLAIMER

#: The collection a nested record under this key belongs to (its page is /pages/{collection}/{slug}).
LINKED = {
    "drug": "drugs",
    "regimen": "regimens",
    "target": "targets",
    "mechanism": "mechanisms",
    "mechanisms": "mechanisms",
    "condition": "conditions",
    "indication": "indications",
    "indications": "indications",
    "source": "sources",
    "sources": "sources",
}

#: Fields shown in their own sections (in this order) rather than in "Details".
SECTIONED = (
    "clinical_summary",
    "plain_summary",
    "warnings",
    "contraindications",
    "dose_ranges",
    "evidence",
    "studies",
    "sources",
)
#: Fields that say which record this is (the heading) or are bookkeeping shown in the footer.
HEADING = ("slug", "name", "title", "version", "created_at", "updated_at")

DIRECTION_WORDS = {
    "benefit": "supports benefit",
    "supports": "supports benefit",
    "no-benefit": "no benefit shown",
    "no_benefit": "no benefit shown",
    "mixed": "mixed results",
    "unclear": "unclear",
}


def title_of(record: Mapping[str, Any]) -> str:
    for key in ("name", "title"):
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
    condition = record.get("condition")
    regimen = record.get("regimen")
    if isinstance(condition, Mapping) and isinstance(regimen, Mapping):
        return f"{regimen.get('name', '')} for {condition.get('name', '')}".strip()
    return str(record.get("slug", ""))


def label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def page_path(collection: str, slug: str) -> str:
    return f"/pages/{collection}/{slug}"


def _link(collection: str, item: Mapping[str, Any]) -> Markup:
    return Markup('<a href="{}">{}</a>').format(page_path(collection, str(item["slug"])), title_of(item))


def value_html(key: str, value: Any) -> Markup:
    """Any JSON value as HTML: links for nested records, lists as lists, objects as definition lists."""
    if value is None or value == "" or value == []:
        return Markup('<span class="none">not stated</span>')
    if isinstance(value, bool):
        return Markup("yes" if value else "no")
    if isinstance(value, Mapping):
        collection = LINKED.get(key)
        if collection and "slug" in value:
            return _link(collection, value)
        return dl_html(value.items())
    if isinstance(value, list):
        items = Markup("").join(Markup("<li>{}</li>").format(value_html(key, v)) for v in value)
        return Markup("<ul>{}</ul>").format(items)
    return escape(str(value))


def dl_html(pairs: Iterable[tuple[str, Any]]) -> Markup:
    rows = Markup("").join(Markup("<dt>{}</dt><dd>{}</dd>").format(label(k), value_html(k, v)) for k, v in pairs)
    return Markup('<dl class="fields">{}</dl>').format(rows)


def direction_text(direction: str | None) -> str:
    if not direction:
        return "not stated"
    return DIRECTION_WORDS.get(direction, direction.replace("-", " "))


def citation(source: Mapping[str, Any]) -> str:
    parts = [str(source.get("title") or source.get("slug"))]
    for key in ("authors", "journal", "year"):
        if source.get(key):
            parts.append(str(source[key]))
    return ". ".join(parts)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("app.api.pages", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        value_html=value_html,
        dl_html=dl_html,
        label=label,
        title_of=title_of,
        page_path=page_path,
        direction_text=direction_text,
        citation=citation,
        DISCLAIMER=DISCLAIMER,
    )
    return env


def collections() -> list[tuple[str, str]]:
    """(collection, heading) for every kind, in the kinds' order."""
    return [(k.name, k.name.capitalize()) for k in KINDS]


def record_page(collection: str, record: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    details = [(k, v) for k, v in record.items() if k not in SECTIONED and k not in HEADING]
    return (
        environment()
        .get_template("record.html")
        .render(
            collection=collection,
            collections=collections(),
            record=record,
            title=title_of(record),
            details=details,
            meta=meta,
            json_url=f"/v1/{collection}/{record['slug']}",
        )
    )


def collection_page(collection: str, records: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> str:
    return (
        environment()
        .get_template("collection.html")
        .render(
            collection=collection,
            collections=collections(),
            records=records,
            title=collection.capitalize(),
            meta=meta,
            json_url=f"/v1/{collection}",
        )
    )


def index_page(counts: Sequence[tuple[str, str, int]], meta: Mapping[str, Any]) -> str:
    return (
        environment()
        .get_template("index.html")
        .render(collections=collections(), counts=counts, title="Naltrexone knowledge base", meta=meta, json_url="/v1")
    )
