#!/usr/bin/env bash
# Test-only system tools, beside the Python ones of the [test] extra:
#   chromium                   the docs browser test (tests/api/test_docs_browser.py)
#   podman, runc, debootstrap  the container image test (tests/ops/test_container.py)
#   node + npm packages        the TypeScript client check (tests/api/test_client_typescript.py)
# As root with apt-get, what is missing is installed. Otherwise each missing tool is named here and its
# tests skip with the reason, so `make test` still runs everything else on a developer's machine.
# In CI (CI=true) a tool that cannot be installed is an error: here, and in the tests (tests/tools.py).
set -euo pipefail
cd "$(dirname "$0")/.."

ci=false
case "${CI:-}" in 1 | true | TRUE | True | yes) ci=true ;; esac
missing=()

# command -> Debian package
declare -A PACKAGES=([chromium]=chromium [podman]=podman [runc]=runc [debootstrap]=debootstrap)
wanted=()
for tool in chromium podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || wanted+=("${PACKAGES[$tool]}")
done
if [ "${#wanted[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
  else
    missing+=("${wanted[@]}")
  fi
fi

# TypeScript client check: openapi-typescript and tsc, pinned by tools/ts/package-lock.json, installed into
# tools/ts/node_modules (git-ignored), never globally.
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tools/ts --no-audit --no-fund --loglevel=error
else
  missing+=("npm (node)")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if $ci; then
    echo "install-test-deps: CI=true and these could not be installed (not root, or no apt-get): ${missing[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: not installed (needs root and apt-get): ${missing[*]}; their tests will skip, saying why" >&2
fi
exit 0
