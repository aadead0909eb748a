"""CDS Hooks 2.0 cards a clinician reads in three seconds (pure: decisions in, card dicts out).

Every card: a summary under 140 characters in plain words (the dose decision's summary comes from the
domain's :func:`app.domain.dosing.rules.clinician_summary`), a short Markdown detail naming sources by
their titles, the indicator from :func:`app.domain.dosing.rules.cds_indicator`, a ``source`` and ``links``
that open the full record's human page (``/pages/{collection}/{slug}``), ``overrideReasons``, and a
``uuid`` that is stable for the same request and unique within the answer. The opioid conflict adds a
suggestion to remove the draft order(s) that create it (``selectionBehavior`` ``at-most-one``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.domain.disclaimer import SHORT_DISCLAIMER
from app.domain.dosing.rules import SUMMARY_MAX_CHARS, cds_indicator, is_checked
from app.domain.opioids import OpioidFinding
from app.integrations.cds_hooks.dosage import DoseReading
from app.integrations.cds_hooks.medications import Entry

SERVICE_LABEL: Final = "ldn-kb naltrexone reference"
DISCLAIMER: Final = SHORT_DISCLAIMER
OVERRIDE_SYSTEM: Final = "urn:ldn-kb:cds-override-reason"
DIRECTION_WORDS: Final = {
    "benefit": "supports",
    "no-benefit": "no benefit",
    "mixed": "mixed",
    "not-assessed": "direction not assessed",
}
LEVEL_WORDS: Final = {
    "regulatory-approval": "regulatory approval",
    "systematic-review": "systematic review",
    "randomized-controlled-trial": "randomized trial",
    "uncontrolled-study": "pilot or uncontrolled study",
    "mechanistic-study": "mechanistic study",
    "source-claim": "claimed by a source, not checked",
}
MAX_EVIDENCE_LINES: Final = 6


def _reason(code: str, display: str) -> dict[str, str]:
    return {"code": code, "system": OVERRIDE_SYSTEM, "display": display}


DOSE_OVERRIDES: Final = (
    _reason("dose-confirmed", "Dose confirmed with the prescriber"),
    _reason("specialist-plan", "Dose follows a specialist's plan"),
    _reason("will-correct", "Will correct the order"),
)
OPIOID_OVERRIDES: Final = (
    _reason("opioid-stopped", "The opioid has been or is being stopped"),
    _reason("list-out-of-date", "The medication list is out of date"),
    _reason("supervised-plan", "Supervised plan accepted by the prescriber"),
)
NOT_CHECKED_OVERRIDES: Final = (
    _reason("checked-elsewhere", "Medications checked another way"),
    _reason("no-opioids", "The patient takes no opioids"),
)


def fit(text: str) -> str:
    """One line under 140 characters (cut at a word, with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX_CHARS:
        return text
    return text[: SUMMARY_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


_URL_NAMESPACE: Final = uuid.NAMESPACE_URL.bytes


def card_id(hook_instance: str, kind: str, key: str) -> str:
    """Stable for the same hook instance, kind of card and subject, so feedback can refer to it: the name-based
    UUID (version 5, URL namespace) of ``ldn-kb:cds:{hook_instance}:{kind}:{key}``, as ``uuid.uuid5`` makes it
    (RFC 9562 §5.5), written without its object (a fifth of the cost)."""
    digest = bytearray(
        hashlib.sha1(_URL_NAMESPACE + bytes(f"ldn-kb:cds:{hook_instance}:{kind}:{key}", "utf-8")).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def page(base_url: str, collection: str, slug: str) -> str:
    """The human page of a record (agreed path ``/pages/{collection}/{slug}``)."""
    return f"{base_url}/pages/{collection}/{slug}"


def _source(label: str, url: str) -> dict[str, str]:
    return {"label": fit(label), "url": url}


def _link(label: str, url: str) -> dict[str, str]:
    return {"label": fit(label), "url": url, "type": "absolute"}


def _title(citation: Any) -> str:
    if isinstance(citation, dict):
        nested = citation.get("source_citation")
        inner: dict[str, Any] = nested if isinstance(nested, dict) else citation
        title = inner.get("title") or inner.get("slug")
        if isinstance(title, str) and title:
            return title
    return "an unnamed source"


def _claim_line(claim: Any) -> str:
    display = None
    if isinstance(claim, dict):
        rng = claim.get("range")
        display = (rng.get("label") or rng.get("display") if isinstance(rng, dict) else None) or claim.get("display")
    title = _title(claim)
    return f"- {display} — *{title}* (the article's claim, not checked)" if display else f"- *{title}* (not checked)"


# --------------------------------------------------------------------------------------------------
# The dose of a naltrexone order


@dataclass(frozen=True, slots=True)
class DoseDecision:
    order: Entry
    reading: DoseReading
    answer: dict[str, Any] | None
    """The dose-check answer (``None`` when the order could not be assessed)."""
    problem: str | None = None
    other_lines: tuple[str, ...] = ()
    """The order's other dosage lines, each as its one-line decision (a titration, an induction dose)."""
    line: str | None = None
    """Which dosage line (``line 2``) or lines taken together (``lines 1 and 2, taken together``) this
    decision is about, when the order has several."""
    other_orders: tuple[str, ...] = ()
    """The patient's other naltrexone orders in this call (drafted or active): the total is not assessed."""


def _other_lines(decision: DoseDecision) -> list[str]:
    lines = []
    if decision.other_lines:
        lines += ["", f"**This card is about dosage {decision.line}. The order's other lines:**"]
        lines += [f"- {text}" for text in decision.other_lines]
    if decision.other_orders:
        lines += ["", "**Another naltrexone order is open too (the combined dose was not assessed):**"]
        lines += [f"- {text}" for text in decision.other_orders]
    return lines


def _evidence_lines(indications: Sequence[dict[str, Any]]) -> list[str]:
    checked = [i for i in indications if i.get("evidence_level") != "source-claim"]
    claimed = [i for i in indications if i.get("evidence_level") == "source-claim"]
    lines: list[str] = []
    if checked:
        lines += [
            "",
            "**Evidence for the regimens this dose lies in (checked sources; a study's own dose may differ):**",
        ]
        for item in checked[:MAX_EVIDENCE_LINES]:
            level = LEVEL_WORDS.get(str(item.get("evidence_level")), str(item.get("evidence_level")))
            direction = DIRECTION_WORDS.get(str(item.get("evidence_direction")), "direction not stated")
            status = "approved" if item.get("status") == "approved" else "off-label"
            lines.append(f"- {item.get('condition')} ({status}): {level}, {direction}")
        if len(checked) > MAX_EVIDENCE_LINES:
            lines.append(f"- and {len(checked) - MAX_EVIDENCE_LINES} more on the full record")
    if claimed:
        names = ", ".join(str(i.get("condition")) for i in claimed)
        lines += ["", f"**Claimed only by an article, not checked ({len(claimed)}):** {names}."]
    return lines


def _checked(m: dict[str, Any]) -> bool:
    return is_checked(m["range"].get("verification")) and bool(m.get("route_fits", True))


def _shown_ranges(answer: dict[str, Any], regimens: Mapping[str, dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The ranges to show: the checked ones that document the dose; else those whose amount it matches on
    another schedule (said as such); else the label's (approved regimens' reference)."""
    matches = [m for m in answer.get("matches") or [] if isinstance(m, dict) and isinstance(m.get("range"), dict)]
    inside = [m for m in matches if m.get("position") == "inside" and _checked(m)]
    documenting = [m for m in inside if m.get("documents")] if answer.get("documented") else []
    if documenting:
        return "**Checked sources this dose lies in:**", documenting
    if inside:
        return "**Checked sources with this amount on another schedule or limit (they do not document it):**", inside
    labelled = [
        m
        for m in matches
        if _checked(m)
        and m["range"].get("is_reference")
        and regimens.get(str(m.get("regimen")), {}).get("approval_status") == "approved"
    ]
    return "**The label's doses (checked sources):**", labelled


def _range_lines(heading: str, shown: Sequence[dict[str, Any]]) -> list[str]:
    if not shown:
        return []
    lines = ["", heading]
    seen: set[tuple[str, str]] = set()
    for m in shown:
        key = (str(m["range"].get("label") or m["range"].get("display")), _title(m))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"- {key[0]} — *{key[1]}* ({m['range'].get('verification')})")
        if len(seen) == 4:
            break
    return lines


def _regimen_links(
    answer: dict[str, Any], shown: Sequence[dict[str, Any]], regimens: Mapping[str, dict[str, Any]], base_url: str
) -> list[tuple[str, str]]:
    slugs = [str(r["slug"]) for r in answer.get("regimens") or [] if isinstance(r, dict) and r.get("slug")]
    slugs += [str(m.get("regimen")) for m in shown if m.get("regimen")]
    out = []
    for slug in dict.fromkeys(slugs):
        name = regimens.get(slug, {}).get("name") or slug
        out.append((str(name), page(base_url, "regimens", slug)))
    return out[:3]


def _warning_line(label_warnings: Sequence[str]) -> list[str]:
    if not label_warnings:
        return []
    return ["", f"**Label warnings:** {'; '.join(label_warnings)}; see the full record."]


def dose_card(
    decision: DoseDecision,
    *,
    regimens: Mapping[str, dict[str, Any]],
    hook_instance: str,
    base_url: str,
    label_warnings: Sequence[str] = (),
    patient_note: str | None = None,
) -> dict[str, Any]:
    """One card per naltrexone order: the domain's decision, or why it could not be assessed, with who the
    patient is (``patient_note``: adult, child, or why that is not known)."""
    order, reading, answer = decision.order, decision.reading, decision.answer
    patient = [f"Patient: {patient_note}."] if patient_note else []
    uid = card_id(hook_instance, "dose", order.key)
    if answer is None:
        problem = decision.problem or reading.problem or "the order's dose could not be read"
        lines = [
            f"The naltrexone order ({order.name}) was not checked against the documented doses: {problem}.",
            "",
            "Check the dose against the label before signing.",
        ]
        if reading.notes:
            lines += ["", "Read from the order: " + "; ".join(reading.notes) + "."]
        lines += ["", *patient] if patient else []
        lines += _other_lines(decision)
        lines += _warning_line(label_warnings)
        lines += ["", DISCLAIMER]
        url = page(base_url, "drugs", "naltrexone")
        return {
            "uuid": uid,
            "summary": fit(f"Naltrexone dose not assessed: {problem}"),
            "detail": "\n".join(lines),
            "indicator": cds_indicator(opioid_conflict=False, assessable=False, documented=False),
            "source": _source(SERVICE_LABEL, url),
            "overrideReasons": list(DOSE_OVERRIDES),
            "links": [_link("Naltrexone: full record", url)],
        }
    indicator = answer.get("indicator") or cds_indicator(
        opioid_conflict=False, assessable=True, documented=bool(answer.get("documented"))
    )
    dose_text = answer.get("dose_text") or order.name
    lines = [f"**Order:** {order.name}; assessed as {dose_text}."]
    if reading.notes:
        lines.append("Read from the order: " + "; ".join(reading.notes) + ".")
    lines += patient
    heading, shown = _shown_ranges(answer, regimens)
    lines += _range_lines(heading, shown)
    claims = [c for c in answer.get("claimed_only_by") or []]
    if claims:
        lines += ["", "**Only an article gives this dose (it documents nothing):**"]
        lines += [_claim_line(c) for c in claims[:3]]
    lines += _other_lines(decision)
    lines += _evidence_lines([i for i in answer.get("indications") or [] if isinstance(i, dict)])
    lines += _warning_line(label_warnings)
    lines += ["", DISCLAIMER]
    links = _regimen_links(answer, shown, regimens, base_url)
    url = links[0][1] if links else page(base_url, "drugs", "naltrexone")
    card: dict[str, Any] = {
        "uuid": uid,
        "summary": fit(str(answer.get("summary") or f"Naltrexone {dose_text}")),
        "detail": "\n".join(lines),
        "indicator": indicator,
        "source": _source(f"{SERVICE_LABEL}: {links[0][0]}" if links else SERVICE_LABEL, url),
        "links": [_link(f"{name}: full record", href) for name, href in links]
        or [_link("Naltrexone: full record", url)],
    }
    if indicator != "info":
        card["overrideReasons"] = list(DOSE_OVERRIDES)
    return card


# --------------------------------------------------------------------------------------------------
# The opioid contraindication


@dataclass(frozen=True, slots=True)
class OpioidConflict:
    naltrexone: tuple[Entry, ...]
    opioids: tuple[tuple[Entry, OpioidFinding], ...]


def _where(entry: Entry) -> str:
    return "draft order" if entry.origin == "draft" else "active medication list"


def _opioid_names(opioids: Iterable[tuple[Entry, OpioidFinding]]) -> list[str]:
    names: dict[str, None] = {}
    for _entry, finding in opioids:
        names.setdefault(finding.ingredient or finding.name, None)
    return list(names)


def opioid_card(
    conflict: OpioidConflict, contraindications: Sequence[dict[str, Any]], *, hook_instance: str, base_url: str
) -> dict[str, Any]:
    """Critical: naltrexone and an opioid together, whichever of them is being ordered."""
    names = ", ".join(_opioid_names(conflict.opioids))
    drafted_naltrexone = [e for e in conflict.naltrexone if e.origin == "draft"]
    if drafted_naltrexone:
        summary = f"Naltrexone ordered with an opioid ({names}): contraindicated on naltrexone's label"
    else:
        summary = f"Opioid ({names}) ordered for a patient on naltrexone: contraindicated on naltrexone's label"
    lines = ["**Naltrexone:**"]
    lines += [f"- {e.name} ({_where(e)})" for e in conflict.naltrexone]
    lines += ["", "**Opioid:**"]
    seen: set[str] = set()
    for entry, finding in conflict.opioids:
        line = f"- {entry.name} ({_where(entry)}; recognised by {finding.because})"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    opioid_lines = [c for c in contraindications if "opioid" in str(c.get("text", "")).lower()][:2]
    if opioid_lines:
        lines += ["", "**Label contraindications:**"]
        lines += [f"- {c.get('text')} (*{_title(c.get('source'))}*)" for c in opioid_lines]
    lines += ["", DISCLAIMER]
    uid = card_id(hook_instance, "opioid", "conflict")
    url = page(base_url, "drugs", "naltrexone")
    card: dict[str, Any] = {
        "uuid": uid,
        "summary": fit(summary),
        "detail": "\n".join(lines),
        "indicator": cds_indicator(opioid_conflict=True, assessable=True, documented=False),
        "source": _source(f"{SERVICE_LABEL}: naltrexone label contraindications", url),
        "overrideReasons": list(OPIOID_OVERRIDES),
        "links": [_link("Naltrexone: full record and label warnings", url)],
    }
    removable = drafted_naltrexone or [e for e, _f in conflict.opioids if e.origin == "draft"]
    suggestions = []
    offered: set[str] = set()
    for entry in removable:
        reference = f"{entry.resource_type}/{entry.resource_id}"
        if entry.resource_id is None or reference in offered:
            continue
        offered.add(reference)
        what = "naltrexone" if drafted_naltrexone else "opioid"
        suggestions.append(
            {
                "label": fit(f"Remove the draft {what} order ({entry.name})"),
                "uuid": card_id(hook_instance, "suggestion", f"{uid}:{reference}"),
                "actions": [
                    {
                        "type": "delete",
                        "description": fit(f"Remove the draft order {reference}"),
                        "resourceId": reference,
                    }
                ],
            }
        )
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    return card


# --------------------------------------------------------------------------------------------------
# What could not be checked


def not_checked_card(
    items: Sequence[tuple[str, str]], *, hook_instance: str, base_url: str, only_list: bool, partial: bool = False
) -> dict[str, Any]:
    """Warning: the opioid check is incomplete; ``items`` are (what, why) in clinician words. ``only_list``:
    the one item is the active medication list, which did not come (or, ``partial``, came incomplete)."""
    count = len(items)
    if only_list and partial:
        summary = "Naltrexone–opioid check incomplete: the patient's active medication list came incomplete"
    elif only_list:
        summary = "Naltrexone–opioid check incomplete: the patient's active medications were not available"
    else:
        plural = "s" if count != 1 else ""
        summary = f"Naltrexone–opioid check incomplete: {count} medication{plural} could not be checked"
    lines = [
        "Naltrexone's label contraindicates it with opioids. These could not be checked for naltrexone or an opioid:",
        "",
    ]
    lines += [f"- {what}: {why}" for what, why in items]
    lines += ["", "Check them before signing.", "", DISCLAIMER]
    url = page(base_url, "drugs", "naltrexone")
    return {
        "uuid": card_id(hook_instance, "not-checked", "opioid-check"),
        "summary": fit(summary),
        "detail": "\n".join(lines),
        # Not assessable: a warning by the one rule (never silent, never reassuring).
        "indicator": cds_indicator(opioid_conflict=False, assessable=False, documented=False),
        "source": _source(f"{SERVICE_LABEL}: naltrexone label contraindications", url),
        "overrideReasons": list(NOT_CHECKED_OVERRIDES),
        "links": [_link("Naltrexone: full record and label warnings", url)],
    }
