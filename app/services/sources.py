"""Sources: the citable things every claim points at."""

from __future__ import annotations

from typing import Any

from app.models import Source
from app.services.embeds import bookkeeping


def represent(source: Source) -> dict[str, Any]:
    return {
        "slug": source.slug,
        "kind": source.kind,
        "title": source.title,
        "authors": source.authors,
        "journal": source.journal,
        "year": source.year,
        "citation": source.citation,
        "url": source.url,
        "identifiers": source.identifiers,
        "verification": source.verification,
        "note": source.note,
        **bookkeeping(source),
    }
