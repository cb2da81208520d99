#!/usr/bin/env bash
# HTTP ingestion benchmark: starts `trellis serve` on a fresh SQLite file in a
# temporary folder (loopback, request logs off), then runs the two loads:
# batches of 100 events, and single-event POSTs at 2,000 requests/s; then the
# Segment comparison: batches of 15 (analytics-node's default flushAt) as
# Segment track calls to /v1/batch, against the same events to /v1/events in
# the Trellis form and as the same Segment calls.
# Usage: bash bench/api/run.sh [seconds]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
SECONDS_PER_RUN=${1:-10}
work=$(mktemp -d /tmp/trellis_bench_XXXXXX)
"$BUILD_DIR/app/trellis" serve --db "$work/bench.db" --flows bench/api/flows --port 0 \
  --deliveries "$work/deliveries.jsonl" --log-requests off --editor-dir "" 2>"$work/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
# --port 0 picks a free port; the "listening" log line names it.
port=""
for _ in $(seq 100); do
  port=$(grep -o '"port":[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log"; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BUILD_DIR/bench/api/api_load" batch --port "$port" --batch 100 --connections "${CONNECTIONS:-4}" --seconds "$SECONDS_PER_RUN"
"$BUILD_DIR/bench/api/api_load" single --port "$port" --rate 2000 --connections 16 --seconds "$SECONDS_PER_RUN"
for form in trellis segment segment-events trellis segment segment-events; do
  "$BUILD_DIR/bench/api/api_load" batch --port "$port" --batch 15 --form $form --connections "${CONNECTIONS:-4}" --seconds "$SECONDS_PER_RUN"
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^trellis_(commits_total|events_accepted_total|timers_pending) '
