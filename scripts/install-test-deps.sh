#!/usr/bin/env bash
# Test-only system tools: what the browser and client-generation tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
