#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts
# `trellis serve` on SQLite with the example flows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p var
exec build/app/trellis serve --db var/trellis.db --flows flows --config flows/trellis.yaml \
  --port "${PORT:-8080}" "$@"
