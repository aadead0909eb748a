"""The README's claims that code can check, the pre-commit hooks, and the rule for missing test tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.main import create_app
from app.settings import Settings
from tests.ops.server import ROOT
from tests.tools import unavailable

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("readme") / "ldn-kb.sqlite3"
    return create_app(Settings(database_url=f"sqlite:///{store}")).openapi()


def test_the_readme_gives_a_new_user_exactly_two_commands() -> None:
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)


def test_the_layout_paragraph_names_every_package_of_app() -> None:
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    packages = sorted(p.parent.name for p in (ROOT / "app").glob("*/__init__.py"))
    assert packages, "app/ has packages"
    missing = [name for name in packages if f"`app/{name}`" not in layout]
    assert missing == [], f"README Layout leaves out {missing}"


def test_the_readme_paging_numbers_are_the_documented_ones(document: dict[str, Any]) -> None:
    def limit(path: str) -> dict[str, Any]:
        params = document["paths"][path]["get"]["parameters"]
        schema: dict[str, Any] = next(p for p in params if p["name"] == "limit")["schema"]
        return schema

    search = limit("/v1/search")
    assert f"search: default {search['default']}, at most {search['maximum']}" in README
    settings = Settings()
    assert f"`limit` (default {settings.page_limit_default}, at most {settings.page_limit_max};" in README


def test_the_readme_says_cors_is_on_by_default_as_the_setting_is() -> None:
    assert Settings.model_fields["cors_origins"].get_default(call_default_factory=True) == ["*"]
    assert "on by default for the public read API" in README and "`Access-Control-Allow-Origin: *`" in README


def test_pre_commit_runs_ruff_format_mypy_and_both_content_checks() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert all(repo["repo"] == "local" for repo in config["repos"])
    assert hooks["ruff"]["entry"].startswith(".venv/bin/ruff check")
    assert hooks["ruff-format"]["entry"].startswith(".venv/bin/ruff format")
    assert hooks["mypy"]["entry"] == ".venv/bin/mypy" and hooks["mypy"]["pass_filenames"] is False
    assert hooks["check-content"]["entry"] == ".venv/bin/ldn-kb check-content"
    assert hooks["check-identifiers"]["entry"] == "python3 ../shared/tools/check_identifiers.py app/content"
    for hook in hooks.values():
        executable = hook["entry"].split()[0]
        assert executable == "python3" or (ROOT / executable).exists() or not (ROOT / ".venv").exists(), executable


def test_mypy_checks_the_tests_too() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True and set(config["files"]) >= {"app", "tests"}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^typecheck:.*\n\t\$\(BIN\)/mypy\s*$", makefile, re.MULTILINE)


def test_a_missing_tool_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        unavailable("chromium not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but chromium"):
        unavailable("chromium not installed")


def test_install_test_deps_fails_in_ci_when_it_cannot_install() -> None:
    script = (ROOT / "scripts" / "install-test-deps.sh").read_text(encoding="utf-8")
    for tool in ("chromium", "podman", "runc", "debootstrap"):
        assert tool in script
    assert "if $ci; then" in script and "exit 1" in script


def test_setup_py_ships_the_migrations_inside_the_package() -> None:
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert '"app.migrations": "migrations"' in text
    assert (ROOT / "migrations" / "env.py").is_file(), "migrations/ stays at the top level"
    assert not Path(ROOT / "app" / "migrations").exists()
