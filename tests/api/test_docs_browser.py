"""Swagger UI and ReDoc render offline: the real service under uvicorn, headless Chromium with every
non-loopback request blocked, the operations found in the rendered DOM, screenshots in test-output/."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ops.server import BIN, ROOT, Server, running, service_env
from tests.tools import first_of

pytestmark = pytest.mark.slow

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
OUTPUT = ROOT / "test-output"
URL = re.compile(r"https?://[^\s\"'<>)]+")
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")


def _chromium() -> str:
    # Skipped with the reason on a machine where it could not be installed (no root), a failure in CI.
    return first_of(CHROMIUM_CANDIDATES, hint="scripts/install-test-deps.sh: apt-get install chromium, as root")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("docs-browser")
    env = service_env(LDNKB_DATABASE_URL=f"sqlite:///{folder / 'ldn-kb.sqlite3'}", LDNKB_ACCESS_LOG="false")
    command = [str(BIN / "ldn-kb"), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with running(command, env=env, cwd=ROOT, log=folder / "server.log") as srv:
        srv.wait_ready()
        yield srv


def _browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _external_urls(text: str) -> list[str]:
    return sorted({u for u in URL.findall(text) if not LOOPBACK.match(u)})


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_docs_page_renders_operations_offline(server: Server, page: str, tmp_path: Path) -> None:
    chromium = _chromium()
    html = httpx.get(f"{server.url}/{page}", timeout=10).text
    assert _external_urls(html) == [], "the served HTML must name no URL outside this service"
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert httpx.get(server.url + asset, timeout=10).status_code == 200, asset

    dom = _browse(chromium, tmp_path / "profile-dom", "--dump-dom", f"{server.url}/{page}")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in ("List indications", "Get a regimen", "listIndications" if page == "docs" else "List sources"):
        assert text in dom.stdout, f"{text!r} not rendered by /{page}"

    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / f"{page}.png"
    shot.unlink(missing_ok=True)
    result = _browse(
        chromium, tmp_path / "profile-shot", "--window-size=1280,2000", f"--screenshot={shot}", f"{server.url}/{page}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000  # a blank page compresses to a few hundred bytes
