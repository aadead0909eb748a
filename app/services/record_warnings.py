"""The label warnings every regimen and indication carries: the opioid contraindication and the
hepatotoxicity warning that remains on the label, attributed, with their status.

One function builds them (:func:`build_warnings`), from the drug record's content as the store holds it
(``app/content/data/drugs.yaml``: the label contraindications and the regulatory history), at
representation time. No medical text is written here: every statement is the content's own text, with
its source and verification; this module only selects and groups.

- ``opioid-contraindication`` (kind ``contraindication``): the label contraindications that concern
  opioids (receiving opioid analgesics; dependent on opioids; in acute opioid withdrawal; a failed
  naloxone challenge or a positive urine opioid screen).
- ``hepatotoxicity`` (kind ``warning``): the label changes of the regulatory history that concern
  hepatotoxicity (the boxed warning removed in 2013, a hepatotoxicity warning remaining), and the
  label contraindications that concern the liver (quoted per label, with their notes).

Hooks: the JSON representers call :func:`record_warnings` (one line, one cached load per session); the
FHIR and Infobutton faces read the ``warnings`` of those representations, or call
:func:`build_warnings` with a drug representation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from app.models import Approval, Drug, Source
from app.services.embeds import source_citation

__all__ = ["WARNING_CODES", "build_warnings", "record_warnings", "warnings_text"]

_OPIOID: Final = re.compile(r"opioid|naloxone|methadone|buprenorphine", re.IGNORECASE)
_LIVER: Final = re.compile(r"hepat|liver", re.IGNORECASE)

WARNING_CODES: Final = {
    "opioid-contraindication": ("contraindication", "Contraindicated with opioids (label)"),
    "hepatotoxicity": ("warning", "Hepatotoxicity warning (label)"),
}
"""code -> (kind, title): the titles are our headings; every statement under them is the content's text."""

_SESSION_KEY: Final = "ldnkb.record_warnings"


def _statement(text: str, source: Mapping[str, Any] | None, verification: str | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"text": text}
    out.update({k: v for k, v in extra.items() if v is not None})
    out["verification"] = verification
    out["source"] = dict(source) if source is not None else None
    return out


def build_warnings(drug: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record warnings from a drug representation (``contraindications`` and ``approval_history``,
    each with its ``source`` citation, as ``/v1/drugs`` serves them). Empty groups are left out."""
    contraindications = list(drug.get("contraindications") or [])
    history = list(drug.get("approval_history") or [])
    groups: dict[str, list[dict[str, Any]]] = {code: [] for code in WARNING_CODES}
    for c in contraindications:
        statement = _statement(
            c["text"], c.get("source"), c.get("verification"), type="label-contraindication", note=c.get("note")
        )
        if _LIVER.search(c["text"]):
            groups["hepatotoxicity"].append(statement)
        elif _OPIOID.search(c["text"]):
            groups["opioid-contraindication"].append(statement)
    label_changes = [
        _statement(
            a["event"],
            a.get("source"),
            a.get("verification"),
            type="label-change",
            date=a.get("date"),
            product=a.get("product"),
        )
        for a in history
        if _LIVER.search(a.get("event") or "")
    ]
    groups["hepatotoxicity"][:0] = label_changes
    out = []
    for code, statements in groups.items():
        if statements:
            kind, title = WARNING_CODES[code]
            out.append({"code": code, "kind": kind, "title": title, "statements": statements})
    return out


def warnings_text(warnings: Iterable[Mapping[str, Any]]) -> str:
    """The warnings as one plain paragraph (for text-only faces such as Infobutton feeds)."""
    parts = []
    for w in warnings:
        statements = " ".join(
            s["text"].rstrip(".") + (f" ({s['product']}, {s['date']})" if s.get("date") else "") + "."
            for s in w["statements"]
        )
        parts.append(f"{w['title']}: {statements}")
    return " ".join(parts)


def _load(session: Session, drug_id: int) -> list[dict[str, Any]]:
    """One query: every source that a label contraindication cites or that an event of the drug's
    regulatory history cites, with the event. The drug row comes from the session (no query when the
    representer loaded it). An event without a source cannot be attributed and is not served here."""
    drug = session.get(Drug, drug_id)
    if drug is None:
        return []
    slugs = {c["source"] for c in drug.contraindications}
    rows = session.execute(
        select(Source, Approval)
        .outerjoin(Approval, and_(col(Approval.source_id) == col(Source.id), col(Approval.drug_id) == drug_id))
        .where(or_(col(Source.slug).in_(slugs), col(Approval.id).is_not(None)))
    ).all()
    by_slug = {source.slug: source_citation(source) for source, _ in rows}
    approvals = sorted(((a, source) for source, a in rows if a is not None), key=lambda pair: pair[0].ordinal)
    return build_warnings(
        {
            "contraindications": [
                {
                    "text": c["text"],
                    "verification": c.get("verification"),
                    "note": c.get("note"),
                    "source": by_slug.get(c["source"]),
                }
                for c in drug.contraindications
            ],
            "approval_history": [
                {
                    "event": a.event,
                    "date": a.date,
                    "product": a.product,
                    "verification": a.verification,
                    "source": by_slug[source.slug],
                }
                for a, source in approvals
            ],
        }
    )


def record_warnings(session: Session, drug_id: int) -> list[dict[str, Any]]:
    """The warnings for a record of drug ``drug_id``: the one-line hook of the JSON representers.

    Loaded once per session and drug (one query, whatever the number of records represented), from the
    store's drug record; a fresh list for every call, so a caller may not alter another's.
    """
    cache: dict[int, list[dict[str, Any]]] = session.info.setdefault(_SESSION_KEY, {})
    if drug_id not in cache:
        cache[drug_id] = _load(session, drug_id)
    return [dict(w, statements=[dict(s) for s in w["statements"]]) for w in cache.get(drug_id, [])]
