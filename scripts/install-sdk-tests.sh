#!/usr/bin/env bash
# Installs the npm packages of the SDK test (tests/api/sdk: the official Segment
# and CloudEvents SDKs) with npm ci, only when its package-lock.json changed.
# Without npm it says so and stops; the test then skips (exit 77).
set -euo pipefail
cd "$(dirname "$0")/../tests/api/sdk"
if ! command -v npm >/dev/null; then
  echo "install-sdk-tests: npm not found; the SDK test will be skipped" >&2
  exit 0
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-sdk-tests: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
