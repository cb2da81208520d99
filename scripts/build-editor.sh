#!/usr/bin/env bash
# Installs editor-web's npm packages (npm ci) and builds it into editor-web/dist, which
# `trellis serve` serves at /. Each step runs only when its inputs changed, so a
# build with nothing new costs well under a second. Without npm it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/../editor-web"
if ! command -v npm >/dev/null; then
  echo "build-editor: npm not found; the editor is not built" >&2
  exit 0
fi
# npm ci when the lock file is newer than what node_modules was installed from.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "build-editor: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
[ "${1:-}" = "--deps-only" ] && exit 0
# npm run build when any source is newer than the last build.
if [ ! -f dist/index.html ] || [ -n "$(find src index.html package.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit)" ]; then
  echo "build-editor: npm run build"
  npm run --silent build
  # A gzip copy of each script and style sheet, which `trellis serve` sends as it is to
  # browsers that take gzip (api/http_server.cpp: compressing on each request was
  # seconds per page load).
  find dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) -exec gzip -9 -k -f {} +
fi
