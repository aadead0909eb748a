"""The container: hadolint, compose.yaml, the Dockerfile's shape, and the image really built and run.

No Docker engine runs on the test machines and ``python:3.11-slim`` cannot be pulled, so
:func:`test_image_builds_and_serves` builds the Dockerfile with podman on a base made from Debian's own
packages (scripts/container-test-base.sh: debootstrap of bookworm, whose python3 is 3.11, cached between
runs), passed as the ``BASE`` build argument. The recipe that works on these machines: ``podman build
--isolation=chroot`` (no nested user namespaces), ``podman --runtime runc --cgroup-manager=cgroupfs run``
with explicit ulimits (crun and systemd cgroups do not work here), host networking.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass

import httpx
import pytest
import yaml

from tests.ops.server import BIN, ROOT, free_port
from tests.tools import require, require_root

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
    assert froms == ["${BASE} AS builder", "${BASE} AS runtime"]
    default_base = re.search(r"^ARG BASE=(\S+)$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert default_base and default_base.group(1) == "python:3.11-slim", "users keep the official slim base"
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
    assert "!migrations/" in ignored and "!app/" in ignored and "!setup.py" in ignored


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


IMAGE = "localhost/ldn-kb:test"
RUNTIME = ["--runtime", "runc", "--cgroup-manager=cgroupfs"]
# Explicit limits: runc cannot raise them past the host's hard limits, which podman's defaults ask for.
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]


def _podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _wait(url: str, name: str, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        state = _podman("inspect", name, "--format", "{{.State.Status}}", check=False).stdout.strip()
        if state not in {"running", "created", "configured", "initialized"}:
            break
        time.sleep(0.2)
    logs = _podman("logs", name, check=False)
    raise AssertionError(f"{url} not 200 within {timeout}s\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")


@pytest.fixture(scope="module")
def image() -> str:
    require("podman", "runc", "debootstrap")
    require_root("building the test base with debootstrap and running podman with runc")
    started = time.monotonic()
    base = subprocess.run(
        ["bash", str(ROOT / "scripts" / "container-test-base.sh")], capture_output=True, text=True, timeout=900
    )
    assert base.returncode == 0, base.stderr[-3000:]
    base_image = base.stdout.strip().splitlines()[-1]
    base_seconds = time.monotonic() - started
    # The previous test image: removed once replaced, with the layers only it used (the layers the new build
    # shares with it, the installed dependencies among them, stay as its cache).
    previous = _podman("image", "inspect", IMAGE, "--format", "{{.Id}}", check=False).stdout.strip()
    _podman(
        "build",
        "--isolation=chroot",
        "--network=host",
        "--format=docker",  # the OCI format drops HEALTHCHECK
        "--build-arg",
        f"BASE={base_image}",
        "--tag",
        IMAGE,
        str(ROOT),
        timeout=900,
    )
    print(f"container base {base_seconds:.1f}s, image build {time.monotonic() - started - base_seconds:.1f}s")
    current = _podman("image", "inspect", IMAGE, "--format", "{{.Id}}").stdout.strip()
    if previous and previous != current:
        _podman("rmi", previous, check=False)
    return IMAGE


@pytest.mark.slow
def test_image_builds_and_serves(image: str) -> None:
    """The built image: non-root, /healthz and /readyz on a fresh /data volume, the data still there after a
    restart, and the image's own HEALTHCHECK command reporting healthy."""
    inspected = json.loads(_podman("image", "inspect", image).stdout)[0]
    assert inspected["Config"]["User"] == "10001:10001"
    assert "/data" in inspected["Config"]["Volumes"]
    assert "/healthz" in " ".join(inspected["Healthcheck"]["Test"])

    suffix = f"{os.getpid()}-{free_port()}"
    volume, name = f"ldn-kb-test-data-{suffix}", f"ldn-kb-test-{suffix}"
    _podman("volume", "create", volume)
    try:
        port = free_port()
        # No systemd here to time the health checks: they are run by hand below.
        run = [*RUNTIME, "run", "--detach", "--name", name, "--health-interval=disable", *ULIMITS]
        serve = ["ldn-kb", "serve", "--host", "127.0.0.1", "--port", str(port)]
        _podman(*run, "--network=host", "-v", f"{volume}:/data", image, *serve)
        base = f"http://127.0.0.1:{port}"
        assert _wait(base + "/readyz", name).json()["status"] == "ready"
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        assert _podman("exec", name, "id", "-u").stdout.strip() == "10001"
        # A write to the volume (the store and a marker file) outlives the container.
        _podman("exec", name, "sh", "-c", "echo kept > /data/marker")
        first = httpx.get(base + "/readyz", timeout=5).json()["checks"]["content"]["content_version"]
        _podman("rm", "--force", "--volumes", "--time", "10", name, timeout=60)
        _podman(*run, "--network=host", "-v", f"{volume}:/data", image, *serve)
        again = _wait(base + "/readyz", name).json()
        assert again["checks"]["content"]["content_version"] == first
        assert _podman("exec", name, "cat", "/data/marker").stdout.strip() == "kept"
        assert "content loaded" not in _podman("logs", name).stderr, "the second start found the store loaded"
        _podman("rm", "--force", "--volumes", "--time", "10", name, timeout=60)

        # The HEALTHCHECK as the image declares it, against the image's own CMD (port 8000 inside a private
        # network namespace, so the host's port 8000 is never touched).
        _podman(*run, "--network=none", image)
        deadline = time.monotonic() + 90
        while (check := _podman("healthcheck", "run", name, check=False)).returncode != 0:
            assert time.monotonic() < deadline, check.stdout + check.stderr + _podman("logs", name).stderr
            time.sleep(0.5)
        assert _podman("inspect", name, "--format", "{{.State.Health.Status}}").stdout.strip() == "healthy"
    finally:
        _podman("rm", "--force", "--volumes", "--time", "5", name, check=False, timeout=60)
        _podman("volume", "rm", "--force", volume, check=False)
