"""The ways people start a FastAPI service, as real processes: ``uvicorn app.main:app``, ``fastapi run`` and
``fastapi dev`` (the module-level ``app``), and ``pip install .`` into a fresh venv, then ``ldn-kb serve``
from an unrelated folder (the migrations ship inside the package)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from tests.imports import modules_left_loaded
from tests.ops.server import BIN, ROOT, running, service_env

pytestmark = pytest.mark.slow


def _serves(server_url: str) -> None:
    index = httpx.get(server_url + "/v1", timeout=10)
    assert index.status_code == 200
    assert index.json()["data"]["links"]["collections"]["drugs"].endswith("/v1/drugs")
    assert httpx.get(server_url + "/v1/drugs/naltrexone", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "uvicorn"), "app.main:app", "--host", "127.0.0.1", "--port", "{port}"],
        [str(BIN / "fastapi"), "run", "--host", "127.0.0.1", "--port", "{port}"],
        [str(BIN / "fastapi"), "dev", "--host", "127.0.0.1", "--port", "{port}"],
    ],
    ids=["uvicorn", "fastapi-run", "fastapi-dev"],
)
def test_the_usual_fastapi_commands_serve_the_module_level_app(tmp_path: Path, command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.fail(f"{command[0]} missing: the [test] extra installs fastapi-cli")
    env = service_env(LDNKB_DATABASE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}", LDNKB_LOG_FORMAT="text")
    with running(command, env=env, cwd=ROOT, log=tmp_path / "serve.log") as server:
        assert server.wait_ready().json()["status"] == "ready"
        _serves(server.url)


def test_importing_app_main_builds_nothing(tmp_path: Path) -> None:
    """The tests (and tools) import app.main for create_app: no app, no engine, no data/ folder then."""
    loaded = modules_left_loaded("import app.main", ["uvicorn", "fastapi.testclient"], tmp_path)
    assert loaded == []
    code = "import app.main, sys\nassert app.main._built is None\nassert 'app' in dir(app.main)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data").exists()


def test_a_built_app_imports_no_http_client(tmp_path: Path) -> None:
    """httpx is imported on the first read from an EHR's FHIR server or JWKS URL, not with the service: it
    loads its command-line tool's libraries too (rich, pygments), megabytes of every worker's memory."""
    code = (
        "import app.main\nfrom app.settings import Settings\n"
        "app.main.create_app(Settings(database_url='sqlite:///:memory:')).openapi()\n"
    )
    assert modules_left_loaded(code, ["httpx", "rich", "pygments"], tmp_path) == []


def test_pip_install_then_serve_from_another_folder(tmp_path: Path) -> None:
    """A non-editable install into a new venv (dependencies are taken from the test venv's site-packages, to
    keep the test off the network; the project itself is built and installed by pip from the source tree)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # A plain path line: the test venv's packages become importable, its .pth files (the editable install of
    # this project among them) are not processed.
    (site / "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    # What the Dockerfile copies (a clean tree: an in-tree build would leave build/ behind in the checkout).
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("app", "migrations"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import app, app.migrate; print(app.__file__); print(app.migrate.migrations_dir())",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    env = service_env(LDNKB_LOG_FORMAT="text")  # the default store: data/ldn-kb.sqlite3 under this folder
    command = [str(venv / "bin" / "ldn-kb"), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with running(command, env=env, cwd=elsewhere, log=tmp_path / "serve.log") as server:
        ready = server.wait_ready().json()
        assert ready["checks"]["migrations"]["status"] == "ok"
        _serves(server.url)
    assert (elsewhere / "data" / "ldn-kb.sqlite3").is_file()
