#!/usr/bin/env bash
# Installs the Debian packages Trellis needs to build, test and serve, when missing.
# Non-interactive: safe as root with no standard input (CI). Skips apt when all is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  antlr4 libantlr4-runtime-dev uuid-dev
  libyaml-cpp-dev libboost-dev libsqlite3-dev sqlite3 libjemalloc-dev
  libpq-dev postgresql  # the PostgreSQL store; tests start a private cluster (scripts/pg-cluster.sh)
  libcpp-httplib-dev nlohmann-json3-dev catch2
  redis-server libhiredis-dev curl
  libcurl4-openssl-dev zlib1g-dev libhowardhinnant-date-dev tzdata python3-aiosmtpd openssl
  nodejs npm chromium
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer, ASan and UBSan
  clang-format  # scripts/format-check.sh, run by scripts/test.sh
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm may come from outside Debian's packages (a machine image with its own node);
# accept those when they work.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# editor-web's npm packages (npm ci, only when package-lock.json changed).
bash "$(dirname "$0")/build-editor.sh" --deps-only
# The SDK test's npm packages (tests/api/sdk; npm ci, only when its lock changed).
bash "$(dirname "$0")/install-sdk-tests.sh"
