#!/usr/bin/env bash
# Configures and builds Trellis into build/ (Ninja, RelWithDebInfo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  # ccache, when the machine has it, shares objects between checkouts (worktrees).
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]+"${launcher[@]}"}"
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
bash scripts/build-editor.sh
