"""Print the dose-check answers for the twelve doses of issue 4 as a Markdown table (uses the real app)."""

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
]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'kb.sqlite3'}", access_log=False)
        with TestClient(create_app(settings)) as client:
            print(
                "| dose | mg/day | documented | inside (regimen: sources) | disagreeing or nearest verdicts | warnings |"
            )
            print("|---|---:|---|---|---|---|")
            for dose in DOSES:
                data = client.post("/v1/dose-check", json=dose).json()["data"]
                label = f"{dose['amount']} {dose['unit']} {dose['frequency']}" + (
                    f" {dose['route']}" if "route" in dose else ""
                )
                inside: dict[str, list[str]] = {}
                for m in data["matches"]:
                    if m["position"] == "inside" and m["comparable"]:
                        inside.setdefault(m["regimen"], []).append(m["source"])
                if inside:
                    other = [
                        f"{m['position']} {m['source']} '{m['range']['label']}'"
                        for m in data["matches"]
                        if m["regimen"] in inside and m["position"] != "inside" and m["comparable"]
                    ]
                else:
                    other = [data["verdict"]]
                inside_text = "; ".join(f"{r}: {', '.join(dict.fromkeys(s))}" for r, s in inside.items()) or "none"
                warnings = sorted({w["code"] for w in data["warnings"]} - {"label-contraindication"})
                print(
                    f"| {label} | {data['normalized']['mg_per_day']} | {data['documented']} | {inside_text} | "
                    f"{'; '.join(other) or '—'} | label contraindications{', ' + ', '.join(warnings) if warnings else ''} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
