#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
# CTest runs the Catch2 binaries, the flow checks and the scenario files, and ends
# with its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
