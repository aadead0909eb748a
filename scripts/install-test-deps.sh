#!/usr/bin/env bash
# Test-only system tools: what the browser and client-generation tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# Docs browser test (tests/api/test_docs_browser.py): headless Chromium from Debian, only when missing.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install-test-deps: /usr/bin/chromium missing and apt-get unavailable (not root?): the browser test will skip" >&2
  fi
fi

# TypeScript client check (tests/api/test_client_typescript.py): openapi-typescript and tsc, pinned by
# tools/ts/package-lock.json, installed into tools/ts/node_modules (git-ignored), never globally.
npm ci --prefix tools/ts --no-audit --no-fund --loglevel=error
