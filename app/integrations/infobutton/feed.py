"""The answer to a knowledge request as a feed, in MedlinePlus Connect's JSON shape or as Atom XML.

Each entry links first to the record's page for people (``{base}/pages/{collection}/{slug}``, HTML), then to
its JSON (``{base}/v1/{collection}/{slug}``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from app.integrations.infobutton.request import SYSTEM_LABELS, KnowledgeRequest
from app.services.dataset import DISCLAIMER
from app.services.knowledge import KnowledgeEntry
from app.services.record_warnings import warnings_text

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_TITLE = "ldn-kb knowledge response"


def _summary(entry: KnowledgeEntry, recipient: str) -> str:
    text = entry.plain_summary if recipient == "PAT" else entry.clinical_summary
    text += f" {warnings_text(entry.warnings)}" if entry.warnings else ""  # label warnings (record_warnings)
    text += "".join(f" Code note ({note})." for note in entry.code_notes)  # how the code asked for maps
    return f"{text} {DISCLAIMER}"


def _subtitle(request: KnowledgeRequest) -> str:
    if not request.held:
        return f"ldn-kb holds no codes of code system {request.system_oid}: no results for {request.code}"
    label = SYSTEM_LABELS.get(request.system or "", "any supported code system")
    return f"ldn-kb results for {label} {request.code}"


def page_url(base_url: str, entry: KnowledgeEntry) -> str:
    """The record's page for people (the path agreed between the faces: /pages/{collection}/{slug})."""
    return f"{base_url}/pages/{entry.kind}/{entry.slug}"


def _links(base_url: str, entry: KnowledgeEntry) -> list[dict[str, str]]:
    return [
        {"href": page_url(base_url, entry), "rel": "alternate", "type": "text/html"},
        {"href": f"{base_url}/v1/{entry.kind}/{entry.slug}", "rel": "related", "type": "application/json"},
    ]


def build_feed(
    request: KnowledgeRequest, entries: list[KnowledgeEntry], base_url: str, self_url: str
) -> dict[str, Any]:
    """The JSON feed: MedlinePlus Connect's shape (text values under ``_value``)."""
    updated = max((e.updated_at for e in entries if e.updated_at), default=None) or datetime.now(UTC).isoformat()
    categories = [{"scheme": "mainSearchCriteria.v.c", "term": request.code}]
    if request.system_oid:
        categories.append({"scheme": "mainSearchCriteria.v.cs", "term": request.system_oid})
    categories.append({"scheme": "informationRecipient", "term": request.recipient})
    return {
        "feed": {
            "base": base_url + "/",
            "lang": "en",
            "title": {"_value": FEED_TITLE, "type": "text"},
            "updated": {"_value": updated},
            "id": {"_value": self_url},
            "author": {"name": {"_value": "ldn-kb"}, "uri": {"_value": base_url + "/"}},
            "subtitle": {"_value": _subtitle(request), "type": "text"},
            "rights": {"_value": DISCLAIMER, "type": "text"},  # on every feed, an empty one too
            "category": categories,
            "entry": [
                {
                    "title": {"_value": e.title, "type": "text"},
                    "link": _links(base_url, e),
                    "id": {"_value": page_url(base_url, e)},
                    "summary": {"type": "text", "_value": _summary(e, request.recipient)},
                    "updated": {"_value": e.updated_at or updated},
                }
                for e in entries
            ],
        }
    }


def atom_xml(feed: dict[str, Any]) -> bytes:
    """The same feed as an Atom document (RFC 4287)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrib)
        if text is not None:
            element.text = text
        return element

    data = feed["feed"]
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": data["lang"]})
    root.set("{http://www.w3.org/XML/1998/namespace}base", data["base"])
    sub(root, "title", data["title"]["_value"], type="text")
    sub(root, "updated", data["updated"]["_value"])
    sub(root, "id", data["id"]["_value"])
    author = sub(root, "author")
    sub(author, "name", data["author"]["name"]["_value"])
    sub(author, "uri", data["author"]["uri"]["_value"])
    sub(root, "subtitle", data["subtitle"]["_value"], type="text")
    sub(root, "rights", data["rights"]["_value"], type="text")
    for category in data["category"]:
        sub(root, "category", scheme=category["scheme"], term=category["term"])
    for entry in data["entry"]:
        element = sub(root, "entry")
        sub(element, "title", entry["title"]["_value"], type="text")
        for link in entry["link"]:
            sub(element, "link", href=link["href"], rel=link["rel"], type=link["type"])
        sub(element, "id", entry["id"]["_value"])
        sub(element, "summary", entry["summary"]["_value"], type="text")
        sub(element, "updated", entry["updated"]["_value"])
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
