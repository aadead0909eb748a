"""TypeScript types generated from the live OpenAPI document (openapi-typescript) type-check a small client.

The spec is exported fresh (``ldn-kb export-openapi``), not read from the committed openapi.yaml. The usage
file (tests/api/clients/usage.ts) reads ``data[0].evidence.level``, ``meta.disclaimer``, ``links.next`` and
the ``Problem`` schema through the generated ``paths``/``components`` types, so tsc fails when the spec stops
documenting those shapes. A control run on the same spec with its 200 bodies stripped must fail, which shows
that the check can fail at all.

The tools are pinned in tools/ts/package-lock.json and installed by scripts/install-test-deps.sh.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.server import BIN, ROOT

pytestmark = pytest.mark.slow

TOOLS = ROOT / "tools" / "ts" / "node_modules" / ".bin"
USAGE = Path(__file__).parent / "clients" / "usage.ts"
TSCONFIG = """{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "strict": true,
    "noEmit": true,
    "noUnusedLocals": false,
    "exactOptionalPropertyTypes": false,
    "skipLibCheck": true,
    "types": []
  },
  "files": ["usage.ts", "schema.d.ts"]
}
"""


def _tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists() or shutil.which("node") is None:
        pytest.fail(f"{path} (or node) is missing: run `bash scripts/install-test-deps.sh` (npm ci --prefix tools/ts)")
    return path


def _run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=180)


def _export_spec(path: Path) -> dict[str, Any]:
    result = _run([BIN / "ldn-kb", "export-openapi", "--output", path], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _typecheck(spec: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Generate schema.d.ts from ``spec`` into ``folder``, beside usage.ts and a strict tsconfig; run tsc."""
    folder.mkdir()
    generated = _run([_tool("openapi-typescript"), spec, "--output", folder / "schema.d.ts"], cwd=folder)
    assert generated.returncode == 0, f"openapi-typescript failed:\n{generated.stdout}\n{generated.stderr}"
    shutil.copy(USAGE, folder / "usage.ts")
    (folder / "tsconfig.json").write_text(TSCONFIG, encoding="utf-8")
    return _run([_tool("tsc"), "--project", folder / "tsconfig.json", "--pretty", "false"], cwd=folder)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    spec = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    return spec, _export_spec(spec)


def test_generated_types_typecheck_the_usage_file(exported: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    spec, _ = exported
    result = _typecheck(spec, tmp_path / "client")
    assert result.returncode == 0, f"tsc found errors against the current spec:\n{result.stdout}{result.stderr}"


def test_typecheck_fails_when_response_bodies_are_undocumented(
    exported: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    document = copy.deepcopy(exported[1])
    for path_item in document["paths"].values():
        for operation in path_item.values():
            ok = operation.get("responses", {}).get("200", {})
            for media in ok.get("content", {}).values():
                media["schema"] = {}
    stripped = tmp_path / "stripped.yaml"
    stripped.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = _typecheck(stripped, tmp_path / "client")
    assert result.returncode != 0, "tsc accepted the usage file against a spec without 200 bodies"
    assert "usage.ts" in result.stdout, result.stdout
