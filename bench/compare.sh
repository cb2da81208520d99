#!/usr/bin/env bash
# The runtime benchmark side by side, in one run (README "Runtime benchmarks"):
# this build's runtime_bench, optionally another build's (BASE, e.g. an older
# commit built in its own worktree), and BullMQ on a local redis-server
# (bench/bullmq) on the same workload. Builds are alternated round by round, as
# the machine may be shared; the load average is printed before and after.
#
#   bash bench/compare.sh [EVENTS] [ROUNDS]          # EVENTS default 200000, ROUNDS 2
#   BASE=/work/other/build/bench/runtime_bench bash bench/compare.sh 200000
#
# Each round runs, per build: `events` and `catchup` (users without profiles:
# no deliveries), then `events ... profiles` and `catchup ... deliver` (every
# user has an email and a phone: deliveries created, sent to the file adapter
# and marked sent). Databases go to a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-200000}
ROUNDS=${2:-2}
NEW=${NEW:-build/bench/runtime_bench}
BASE=${BASE:-}
FLOW=flows/cart_reminder.yaml
TMP=$(mktemp -d /tmp/trellis-compare.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

builds=(new)
[ -n "$BASE" ] && builds+=(base)
bin_of() { if [ "$1" = new ]; then echo "$NEW"; else echo "$BASE"; fi; }

# Prints "KEY value" lines for one build's four runs.
run_build() {
  local name=$1 bin
  bin=$(bin_of "$name")
  local db=$TMP/$name.db
  rm -f "$db"* && "$bin" events "$FLOW" "$db" "$EVENTS" >"$TMP/out" && cat "$TMP/out" >&2
  sed -n 's/.* \([0-9]*\) events\/s.*/ingest \1/p; s/.* \([0-9]*\) events per CPU second.*/ingest_cpu \1/p; s/.* \([0-9]*\) bytes written per event, database \([0-9.]*\) MB.*/ingest_bytes \1\ningest_db \2/p' "$TMP/out"
  "$bin" catchup "$FLOW" "$db" >"$TMP/out" && cat "$TMP/out" >&2
  sed -n 's/.* \([0-9]*\) timers\/s,.*/fire \1/p; s/.* \([0-9]*\) timers per CPU second.*/fire_cpu \1/p; s/.* \([0-9]*\) bytes written per fired timer, database \([0-9.]*\) MB.*/fire_bytes \1\nfire_db \2/p' "$TMP/out"
  rm -f "$db"* && "$bin" events "$FLOW" "$db" "$EVENTS" profiles >"$TMP/out" && cat "$TMP/out" >&2
  sed -n 's/.* \([0-9]*\) events\/s.*/ingest_p \1/p; s/.* \([0-9]*\) bytes written per event, database.*/ingest_p_bytes \1/p' "$TMP/out"
  "$bin" catchup "$FLOW" "$db" deliver >"$TMP/out" && cat "$TMP/out" >&2
  sed -n 's/.* \([0-9]*\) timers\/s with their deliveries.*/fire_d \1/p; s/.* \([0-9]*\) bytes written per fired timer, database \([0-9.]*\) MB.*/fire_d_bytes \1\nfire_d_db \2/p' "$TMP/out"
  rm -f "$db"*
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $EVENTS events per run" >&2
for round in $(seq "$ROUNDS"); do
  for name in "${builds[@]}"; do
    echo "--- round $round: $name ($(bin_of "$name"))" >&2
    run_build "$name" | sed "s/^/$name /" >>"$TMP/figures"
  done
done

if command -v redis-server >/dev/null && command -v node >/dev/null; then
  if [ ! -d bench/bullmq/node_modules ]; then
    (cd bench/bullmq && npm ci --no-audit --no-fund >/dev/null 2>&1)
  fi
  echo "--- BullMQ" >&2
  node bench/bullmq/bench.js "$EVENTS" | tee "$TMP/bullmq" >&2
  sed -n 's/.* \([0-9]*\) events\/s.*/bullmq ingest \1/p; s/.* \([0-9]*\) timers\/s.*/bullmq fire \1/p' \
    "$TMP/bullmq" >>"$TMP/figures"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The median of each figure over the rounds, then the ratios.
awk '
  { v[$1" "$2] = v[$1" "$2] " " $3 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("ingest ingest_cpu ingest_bytes ingest_db fire fire_cpu fire_bytes fire_db ingest_p ingest_p_bytes fire_d fire_d_bytes fire_d_db", keys, " ")
    printf "%-16s %12s %12s %8s\n", "figure (median)", "new", "base", "new/base"
    for (k = 1; k in keys; k++) {
      key = keys[k]; n = median(v["new " key]); b = ("base " key) in v ? median(v["base " key]) : ""
      ratio = (b != "" && (b + 0) > 0) ? sprintf("%.2f", n / b) : ""
      printf "%-16s %12s %12s %8s\n", key, n, b, ratio
    }
    if (("bullmq ingest") in v) {
      printf "%-16s %12s %12s %8s\n", "bullmq ingest", v["bullmq ingest"], "", sprintf("%.1fx", median(v["new ingest"]) / v["bullmq ingest"])
      printf "%-16s %12s %12s %8s\n", "bullmq fire", v["bullmq fire"], "", sprintf("%.1fx", median(v["new fire"]) / v["bullmq fire"])
    }
  }' "$TMP/figures"
