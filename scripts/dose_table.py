"""Print the dose-check answers for the issue 4 doses and the issue 11 cases as a Markdown table.

Uses the real app over a fresh SQLite store: python scripts/dose_table.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

DOSES = [
    {"amount": 0.5, "unit": "µg", "frequency": "daily"},
    {"amount": 0.5, "unit": "mg", "frequency": "daily"},
    {"amount": 1.5, "unit": "mg", "frequency": "daily"},
    {"amount": 3, "unit": "mg", "frequency": "daily"},
    {"amount": 4, "unit": "mg", "frequency": "daily"},
    {"amount": 4.5, "unit": "mg", "frequency": "daily"},
    {"amount": 10, "unit": "mg", "frequency": "daily"},
    {"amount": 50, "unit": "mg", "frequency": "daily"},
    {"amount": 100, "unit": "mg", "frequency": "every other day"},
    {"amount": 150, "unit": "mg", "frequency": "every third day"},
    {"amount": 380, "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"},
    {"amount": 250, "unit": "mg", "frequency": "daily"},
    {"amount": 150, "unit": "mg", "frequency": "daily"},
    {"amount": 200, "unit": "mg", "frequency": "daily"},
    {"amount": 1, "unit": "mg", "frequency": "twice daily"},
    {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "intramuscular"},
    {"amount": 4.5, "unit": "mg", "frequency": "twice daily", "weight_kg": 50},
]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'kb.sqlite3'}", access_log=False)
        with TestClient(create_app(settings)) as client:
            print("| dose | indicator | summary | documented by (checked) | claimed only by | warnings |")
            print("|---|---|---|---|---|---|")
            for dose in DOSES:
                data = client.post("/v1/dose-check", json=dose).json()["data"]
                label = data["dose_text"] + (f" {dose['route']}" if "route" in dose else "")
                label += f", {dose['weight_kg']} kg" if "weight_kg" in dose else ""
                inside: dict[str, list[str]] = {}
                for m in data["matches"]:
                    if m["documents"]:
                        inside.setdefault(m["regimen"], []).append(m["source"])
                inside_text = "; ".join(f"{r}: {', '.join(dict.fromkeys(s))}" for r, s in inside.items()) or "none"
                claimed = ", ".join(c["source_citation"]["slug"] for c in data["claimed_only_by"]) or "—"
                warnings = sorted({w["code"] for w in data["warnings"]} - {"label-contraindication"})
                print(
                    f"| {label} | {data['indicator']} | {data['summary']} | {inside_text} | {claimed} | "
                    f"label contraindications{', ' + ', '.join(warnings) if warnings else ''} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
