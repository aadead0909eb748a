"""Cards for a naltrexone order (pure: the dose-check answer and opioid findings in, CDS cards out)."""

from __future__ import annotations

import uuid
from typing import Any

from app.domain.opioids import OpioidFinding

SOURCE_LABEL = "ldn-kb naltrexone knowledge base"
MAX_SUMMARY = 139


def _summary(text: str) -> str:
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


def _card_id(hook_instance: str, medication_id: str, kind: str) -> str:
    """Stable per hook instance, order and card kind, so feedback can refer to it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldn-kb:{hook_instance}:{medication_id}:{kind}"))


def _source(base_url: str) -> dict[str, str]:
    """The card's source: the service itself (CDS Hooks: not a context-specific drill-down; see links)."""
    return {"label": SOURCE_LABEL, "url": f"{base_url}/docs"}


def dose_cards(
    result: dict[str, Any], *, medication_id: str, medication_name: str, hook_instance: str, base_url: str
) -> list[dict[str, Any]]:
    """An info card with the regimen(s) and evidence; a warning card when undocumented or above all."""
    normalized = result["normalized"]
    per_day = normalized["mg_per_day"]
    amount = f"{per_day} mg/day" if per_day is not None else f"{normalized['mg_per_administration']} mg once"
    cards: list[dict[str, Any]] = []
    regimens = result["regimens"]
    if regimens:
        names = ", ".join(r["name"] for r in regimens)
        lines = [f"**Verdict:** {result['verdict']}.", "", "**Ranges (each source):**"]
        for m in result["matches"]:
            if m["regimen"] in {r["slug"] for r in regimens}:
                lines.append(f"- {m['range']['display']} — {m['source_citation']['title']} ({m['position']})")
        if result["indications"]:
            lines += ["", "**Documented uses at this regimen (evidence level):**"]
            lines += [f"- {i['condition']}: {i['status']}, {i['evidence_level']}" for i in result["indications"]]
        lines += ["", "Reference information, not medical advice."]
        first = regimens[0]
        cards.append(
            {
                "uuid": _card_id(hook_instance, medication_id, "info"),
                "summary": _summary(f"{medication_name} {amount}: {names}"),
                "detail": "\n".join(lines),
                "indicator": "info",
                "source": _source(base_url),
                "links": [
                    {"label": "Regimen in ldn-kb", "url": f"{base_url}/v1/regimens/{first['slug']}", "type": "absolute"}
                ],
            }
        )
    if not result["documented"] or result["above_all_documented"]:
        where = "above every documented regimen" if result["above_all_documented"] else "in no documented regimen"
        cards.append(
            {
                "uuid": _card_id(hook_instance, medication_id, "warning"),
                "summary": _summary(f"{medication_name} {amount} lies {where}"),
                "detail": f"**Verdict:** {result['verdict']}.\n\nReference information, not medical advice.",
                "indicator": "warning",
                "source": _source(base_url),
            }
        )
    return cards


def opioid_card(
    finding: OpioidFinding,
    contraindications: list[dict[str, Any]],
    *,
    medication_id: str,
    hook_instance: str,
    base_url: str,
) -> dict[str, Any]:
    """Critical: naltrexone with an opioid in the same orders (the label's contraindication)."""
    how = f"ATC {finding.evidence}" if finding.basis == "atc" else f"ingredient {finding.evidence}"
    lines = [f"The orders include **{finding.name}** (an opioid, recognised by {how}).", "", "Label contraindications:"]
    lines += [f"- {c['message']} (source: {c['source']})" for c in contraindications]
    lines += ["", "Reference information, not medical advice."]
    return {
        "uuid": _card_id(hook_instance, f"{medication_id}:{finding.name}", "critical"),
        "summary": _summary(f"Naltrexone with an opioid ({finding.name}): contraindicated on the label"),
        "detail": "\n".join(lines),
        "indicator": "critical",
        "source": _source(base_url),
        "links": [{"label": "Naltrexone in ldn-kb", "url": f"{base_url}/v1/drugs/naltrexone", "type": "absolute"}],
    }
