#!/usr/bin/env bash
# The hardening run of scripts/test.sh: a clang build with ASan + UBSan into
# build-fuzz/ (TRELLIS_FUZZ=ON), the unit tests that need no servers run under
# the sanitizers (the crash test included), then each libFuzzer target for
# FUZZ_SECONDS (default 20) from its seed corpus in tests/fuzz/corpus/<name>/.
# New inputs the fuzzers find go to a temporary folder, not into the repo; a
# crashing input is kept in build-fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-20}
FUZZERS=(yaml dsl expr event scenario)
SANITIZED_TESTS=(tests/ir/test_ir tests/expr/test_expr tests/dsl/test_dsl tests/nodes/test_nodes
                 tests/runtime/test_runtime)

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CXX=clang++ CC=clang cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTRELLIS_FUZZ=ON -DTRELLIS_BUILD_BENCH=OFF "${launcher[@]+"${launcher[@]}"}"
fi
targets=(crash_child)
for t in "${SANITIZED_TESTS[@]}"; do targets+=("$(basename "$t")"); done
for f in "${FUZZERS[@]}"; do targets+=("fuzz_$f"); done
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${targets[@]}"

# halt_on_error: the first report fails the run. Leak checking needs ptrace,
# which some containers refuse; ASan's other checks do not. alloc_dealloc_mismatch
# is off because Debian's prebuilt Catch2 main pairs new(nothrow) with free in its
# own test registry at exit (a report in Catch2, not in Trellis).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:abort_on_error=0:alloc_dealloc_mismatch=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

for t in "${SANITIZED_TESTS[@]}"; do
  echo "fuzz.sh: $t under ASan + UBSan"
  (cd "$(dirname "$BUILD_DIR/$t")" && "./$(basename "$t")" --reporter compact)
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD_DIR/crashes"
for f in "${FUZZERS[@]}"; do
  echo "fuzz.sh: fuzz_$f for ${SECONDS_PER_TARGET}s"
  mkdir -p "$work/$f"
  status=0
  "$BUILD_DIR/tests/fuzz/fuzz_$f" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD_DIR/crashes/$f-" \
    "$work/$f" "tests/fuzz/corpus/$f" >"$work/$f.log" 2>&1 || status=$?
  # libFuzzer's progress lines are many; show the summary, or all of it on failure.
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/$f.log"
    echo "fuzz.sh: fuzz_$f failed; the input is in $BUILD_DIR/crashes/"
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$work/$f.log" || true
done
echo "fuzz.sh: sanitizer tests and ${#FUZZERS[@]} fuzzers passed"
