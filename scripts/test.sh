#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
# First the format check (scripts/format-check.sh: the C++ as .clang-format says),
# then scripts/fuzz.sh: the sanitizer build (ASan + UBSan, clang) of the unit
# and crash tests and each fuzz target for a bounded time (FUZZ=0 skips it;
# docs/limits.md). Then CTest runs the Catch2 binaries, the flow checks and the
# scenario files, and ends with its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/format-check.sh
bash scripts/build.sh
if [ "${FUZZ:-1}" != 0 ]; then
  bash scripts/fuzz.sh
fi
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
