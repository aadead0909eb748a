"""Running ``ldn-kb serve`` (or a command like it) in a subprocess for the operations tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[dict[str, object]]:
        """The JSON log lines written so far (a line that is not JSON fails the test)."""
        text = self.log.read_text(encoding="utf-8")
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]

    def wait_ready(self, path: str = "/readyz") -> httpx.Response:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                response = httpx.get(self.url + path, timeout=5)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{path} not 200 within {START_TIMEOUT}s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def service_env(**extra: str) -> dict[str, str]:
    """The test's environment without any LDNKB_ setting of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDNKB_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(extra)
    return env


@contextmanager
def running(
    command: Sequence[str], *, env: dict[str, str], cwd: Path, log: Path, port: int | None = None
) -> Iterator[Server]:
    """Start ``command`` (it must listen on ``port``) with stderr and stdout to ``log``; stop it at the end."""
    chosen = port or free_port()
    argv = [part.replace("{port}", str(chosen)) for part in command]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(process, chosen, log)
    try:
        yield server
    finally:
        server.stop()
