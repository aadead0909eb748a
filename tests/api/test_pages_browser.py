"""Pages for people in a real headless browser: they render with their stylesheet, log no console errors,
and keep text contrast at WCAG AA. Screenshots in test-output/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.api.pages import router as pages_router
from tests.api.test_docs_browser import OUTPUT, _browse, _chromium, server  # noqa: F401  (the server fixture)
from tests.ops.server import Server

pytestmark = pytest.mark.slow

PAGES = [
    "/pages/",
    "/pages/regimens/oral-naltrexone-addiction",
    "/pages/regimens/low-dose-naltrexone",
    "/pages/indications/ldn-fibromyalgia",
    "/pages/sources/toljan-2018",
]
HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


def _luminance(hex6: str) -> float:
    channels = [int(hex6[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_helper_matches_known_ratios() -> None:
    assert round(contrast("000000", "ffffff"), 1) == 21.0
    assert contrast("777777", "ffffff") < 4.5 < contrast("595959", "ffffff")


def test_every_text_colour_meets_aa_on_every_background() -> None:
    css = pages_router._CSS.decode()
    foregrounds = {m.group(1).lower() for m in re.finditer(r"(?<![-\w])color:\s*#([0-9a-fA-F]{6})", css)}
    backgrounds = {m.group(1).lower() for m in re.finditer(r"background:\s*#([0-9a-fA-F]{6})", css)}
    assert foregrounds and backgrounds
    for fg in foregrounds:
        for bg in backgrounds:
            assert contrast(fg, bg) >= 4.5, (fg, bg, contrast(fg, bg))


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_chromium_without_console_errors(server: Server, path: str, tmp_path: Path) -> None:  # noqa: F811
    chromium = _chromium()
    assert httpx.get(server.url + path, timeout=10).status_code == 200
    dom = _browse(chromium, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", server.url + path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<main" in dom.stdout and "<h1>" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line]
    assert console == [], console
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / ("page" + path.replace("/", "_") + ".png")
    shot.unlink(missing_ok=True)
    result = _browse(chromium, tmp_path / "shot", "--window-size=1000,1400", f"--screenshot={shot}", server.url + path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000
