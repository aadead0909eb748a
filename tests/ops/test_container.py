"""The container: hadolint, compose.yaml, and the Dockerfile's own build and start steps replayed here.

No Docker engine runs on the test machines, so :func:`test_dockerfile_install_serves` executes the
Dockerfile's instructions itself: the builder stage's ENV/WORKDIR/COPY/RUN in a temporary root (paths
such as /opt/venv mapped under it), the runtime stage's ENV/WORKDIR/COPY, then its CMD with its
environment, and finally its HEALTHCHECK command.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.ops.server import BIN, ROOT, free_port, running, service_env

DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Instruction:
    stage: str
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    logical = re.sub(r"\\\n", " ", text)
    out: list[Instruction] = []
    stage = ""
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage = args.split(" AS ")[-1].strip() if " AS " in args else args.strip()
        out.append(Instruction(stage, keyword, args.strip()))
    return out


def parse_env(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args))


@pytest.mark.slow
def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(BIN / "hadolint")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_shape() -> None:
    instructions = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
    froms = [i.args for i in instructions if i.keyword == "FROM"]
    assert froms == ["python:3.11-slim AS builder", "python:3.11-slim AS runtime"]
    runtime = [i for i in instructions if i.stage == "runtime"]
    user = [i.args for i in runtime if i.keyword == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    assert any(i.keyword == "HEALTHCHECK" and "/healthz" in i.args for i in runtime)
    assert any(i.keyword == "VOLUME" and i.args == "/data" for i in runtime)
    env: dict[str, str] = {}
    for i in runtime:
        if i.keyword == "ENV":
            env.update(parse_env(i.args))
    assert env["LDNKB_DATABASE_URL"] == "sqlite:////data/ldn-kb.sqlite3"
    builder = [i for i in instructions if i.stage == "builder"]
    copies = [i.args for i in builder if i.keyword == "COPY"]
    assert copies[0].startswith("pyproject.toml"), "dependencies get their own layer before the source"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    assert "!migrations/" in ignored and "!app/" in ignored


def test_compose_file_structure() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["healthcheck"]["test"]
    assert services["app"]["environment"]["LDNKB_DATABASE_URL"].startswith("postgresql+psycopg://")


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.mark.slow
def test_docker_compose_config_validates() -> None:
    if not _compose_available():
        pytest.skip("no `docker compose` here: the docker client lacks the compose plugin")
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["services"]) == {"app", "db"}


class Replay:
    """Runs Dockerfile instructions on this machine, with absolute paths mapped under ``root``."""

    def __init__(self, root: Path, roots: list[str]) -> None:
        self.root = root
        self.roots = sorted(roots, key=len, reverse=True)
        self.env = service_env()
        self.cwd = root

    def map(self, text: str) -> str:
        for prefix in self.roots:
            text = re.sub(rf"(?<![\w.-])(?<!\w/){re.escape(prefix)}(?=[/\s:'\"]|$)", str(self.root) + prefix, text)
        return text

    def run(self, instruction: Instruction, *, execute_run: bool) -> None:
        keyword, args = instruction.keyword, instruction.args
        if keyword == "ENV":
            for name, value in parse_env(args).items():
                value = value.replace("$PATH", self.env.get("PATH", ""))
                self.env[name] = self.map(value)
        elif keyword == "WORKDIR":
            self.cwd = Path(self.map(args))
            self.cwd.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY" and not args.startswith("--from"):
            source, target = args.split()
            destination = self.cwd / target
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy(origin, destination if not target.endswith("/") else destination / origin.name)
        elif keyword == "RUN" and execute_run:
            # pip's cache is allowed here (the image disables it): the test then needs little network.
            command = self.map(args).replace("--no-cache-dir ", "")
            result = subprocess.run(
                ["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=900
            )
            assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.mark.slow
def test_dockerfile_install_serves(tmp_path: Path) -> None:
    instructions = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
    roots = ["/opt/venv", "/data"] + [i.args for i in instructions if i.keyword == "WORKDIR"]
    replay = Replay(tmp_path, roots)
    started = time.monotonic()
    for instruction in instructions:
        if instruction.stage == "builder":
            replay.run(instruction, execute_run=True)
    build_seconds = time.monotonic() - started

    runtime = Replay(tmp_path, roots)
    for instruction in instructions:
        if instruction.stage == "runtime":
            # The runtime stage's RUN only creates the unprivileged user and /data.
            runtime.run(instruction, execute_run=False)
    (tmp_path / "data").mkdir(exist_ok=True)
    assert (runtime.cwd / "migrations" / "env.py").is_file()
    assert not (runtime.cwd / "app").exists(), "the runtime must use the installed package, not a source copy"

    port = free_port()
    cmd = json.loads(next(i.args for i in instructions if i.keyword == "CMD" and i.stage == "runtime"))
    cmd = [part if part != "8000" else str(port) for part in cmd]
    cmd = [part if part != "0.0.0.0" else "127.0.0.1" for part in cmd]
    assert cmd[0] == "ldn-kb"
    cmd[0] = str(tmp_path / "opt" / "venv" / "bin" / "ldn-kb")
    assert runtime.env["LDNKB_DATABASE_URL"] == f"sqlite:///{tmp_path}/data/ldn-kb.sqlite3"
    with running(cmd, env=runtime.env, cwd=runtime.cwd, log=tmp_path / "serve.log", port=port) as server:
        ready = server.wait_ready("/readyz")
        assert ready.json()["status"] == "ready"
        assert (tmp_path / "data" / "ldn-kb.sqlite3").is_file()
        healthcheck = next(i.args for i in instructions if i.keyword == "HEALTHCHECK")
        probe = json.loads(healthcheck.split("CMD", 1)[1].strip())
        probe = [part.replace(":8000/", f":{port}/") for part in probe]
        probe[0] = str(tmp_path / "opt" / "venv" / "bin" / "python")
        assert subprocess.run(probe, env=runtime.env, timeout=30).returncode == 0
        assert httpx.get(server.url + "/v1/evidence-levels", timeout=10).status_code == 200
    print(f"builder stage replayed in {build_seconds:.1f}s")  # shown with -s or -rP
