#!/usr/bin/env bash
# SQLite against PostgreSQL with one, two and three processes sharing one
# database, in one run (README "Runtime benchmarks", docs/benchmarks.md):
#
#   bash bench/multinode.sh [EVENTS]        # EVENTS default 40000
#
# Each row: `runtime_bench events` (EVENTS add_to_cart events, one journey each,
# split evenly over the processes, each with users of its own) and then
# `runtime_bench catchup` (every process reopens the database 73 h later and
# fires timers until none is due: they share the work through FOR UPDATE SKIP
# LOCKED). Rates are EVENTS over the wall time from the first process's start
# to the last one's end (connecting and deploying included). Memory is each
# process's peak RSS (VmHWM), for the events run and for the catch-up.
# PostgreSQL runs in a private cluster (scripts/pg-cluster.sh) with its
# default settings (fsync on, synchronous_commit on): every commit is
# durable, as SQLite's are against a process crash; PG_OPTS adds settings
# ("-c synchronous_commit=off").
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-40000}
BIN=${BIN:-build/bench/runtime_bench}
FLOW=flows/cart_reminder.yaml
TMP=$(mktemp -d /tmp/trellis-multinode.XXXXXX)
read -r PGDIR PGURL < <(bash scripts/pg-cluster.sh start)
trap 'bash scripts/pg-cluster.sh stop "$PGDIR"; rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# The last "RSS N MB" of each file: the process's peak.
rss() { sed -n 's/.*RSS \([0-9]*\) MB.*/\1/p' "$@" | paste -sd/ -; }

echo "machine: $(nproc) cores, $(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1)," \
     "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo);" \
     "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "store       processes  events/s  timers/s  peak RSS per process, events; catch-up (MB)"

t0=$(now)
"$BIN" events "$FLOW" "$TMP/s.db" "$EVENTS" >"$TMP/sqlite.events"
t1=$(now)
"$BIN" catchup "$FLOW" "$TMP/s.db" >"$TMP/sqlite.catchup"
t2=$(now)
printf "%-11s %9d  %8s  %8s  %s\n" sqlite 1 "$(rate "$EVENTS" "$t0" "$t1")" \
  "$(rate "$EVENTS" "$t1" "$t2")" "$(rss "$TMP/sqlite.events"); $(rss "$TMP/sqlite.catchup")"

for n in 1 2 3; do
  psql -q "$PGURL" -c "CREATE SCHEMA n$n" >/dev/null
  db="$PGURL?options=-csearch_path%3Dn$n"
  per=$((EVENTS / n))
  t0=$(now)
  for i in $(seq "$n"); do
    TRELLIS_BENCH_NODE="p$i-" "$BIN" events "$FLOW" "$db" "$per" >"$TMP/pg$n.events.$i" &
  done
  wait
  t1=$(now)
  for i in $(seq "$n"); do "$BIN" catchup "$FLOW" "$db" >"$TMP/pg$n.catchup.$i" & done
  wait
  t2=$(now)
  fired=$(sed -n 's/^catchup: \([0-9]*\) timers.*/\1/p' "$TMP"/pg$n.catchup.* | awk '{ s += $1 } END { print s + 0 }')
  [ "$fired" -eq $((per * n)) ] || echo "pg $n: fired $fired timers, expected $((per * n))" >&2
  printf "%-11s %9d  %8s  %8s  %s\n" postgresql "$n" "$(rate $((per * n)) "$t0" "$t1")" \
    "$(rate "$fired" "$t1" "$t2")" "$(rss "$TMP"/pg$n.events.*); $(rss "$TMP"/pg$n.catchup.*)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
