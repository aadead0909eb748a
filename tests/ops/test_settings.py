"""Settings: the README table is the model's, invalid values stop the start with a clear message, JSON logs."""

from __future__ import annotations

import io
import logging
import subprocess

import orjson

from app.buildtime.settings_table import settings_table
from app.observability.logging import JsonFormatter, logging_config, request_id_var
from app.settings import Settings
from tests.ops.server import BIN, ROOT, service_env

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def test_readme_settings_table_matches_the_model() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme, "README.md lacks the settings table markers"
    table = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == settings_table().strip(), "regenerate with: ldn-kb settings-table"
    for name in Settings.model_fields:
        assert f"`LDNKB_{name.upper()}`" in table


def test_invalid_setting_refuses_to_start() -> None:
    result = subprocess.run(
        [str(BIN / "ldn-kb"), "serve", "--port", "1"],
        env=service_env(LDNKB_CACHE_MAX_AGE="-5", LDNKB_LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "ldn-kb: invalid settings:"
    assert any(
        line.strip().startswith("LDNKB_CACHE_MAX_AGE: ") and "greater than or equal to 0" in line for line in lines
    )
    assert any(line.strip().startswith("LDNKB_LOG_FORMAT: ") for line in lines)
    assert "Traceback" not in result.stderr


def test_json_formatter_redacts_credentials_and_carries_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ldn_kb.test_formatter")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    token = request_id_var.set("rid-7")
    try:
        logger.info("signed in %s", "user", extra={"api_key": "k-123", "authorization": "Bearer t", "count": 3})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "signed in user"
    assert first["request_id"] == "rid-7"
    assert first["api_key"] == first["authorization"] == "[redacted]"
    assert first["count"] == 3
    assert {"timestamp", "level", "logger"} <= set(first)
    assert second["level"] == "error" and "ValueError: boom" in second["exception"]


def test_logging_config_routes_uvicorn_through_the_formatter() -> None:
    config = logging_config("warning", "json")
    assert config["loggers"]["uvicorn"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert config["formatters"]["service"]["fmt"] == "json"
