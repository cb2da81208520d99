#!/usr/bin/env bash
# CTest driver of the Redis producer example: a real redis-server and `trellis serve
# --redis` on free loopback ports, produce.sh, then the journeys checked through the API.
#   test.sh TRELLIS_BINARY REPO_ROOT
set -euo pipefail
trellis=$1
root=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$EXAMPLE_TMP" >"$EXAMPLE_TMP/redis.log" 2>&1 &
EXAMPLE_PIDS+=($!)
until_ok 10 redis-cli -p "$redis_port" PING

start_trellis "$trellis" "$root/flows" --redis "redis://127.0.0.1:$redis_port" --consumer example

REDIS_PORT=$redis_port bash "$here/produce.sh"

journeys() { curl -sf "$TRELLIS_URL/v1/users/$1/journeys"; }
# The consumer commits, then acks: wait until Kim's cart reminder is waiting and
# Lou's has ended (paid), and the bad entry is in the dead-letter stream.
until_ok 20 bash -c "curl -sf $TRELLIS_URL/v1/users/kim/journeys | grep -q '\"state\":\"waiting_event\"\\|\"state\":\"waiting_timer\"'"
until_ok 20 bash -c "curl -sf $TRELLIS_URL/v1/users/lou/journeys | grep -q '\"state\":\"exited\"'"
until_ok 20 bash -c "[ \"\$(redis-cli -p $redis_port XLEN trellis:events:dead)\" = 1 ]"

echo "kim: $(journeys kim)"
echo "lou: $(journeys lou)"
echo "dead letter: $(redis-cli -p "$redis_port" XRANGE trellis:events:dead - + | tr '\n' ' ')"
journeys kim | grep -q '"flow":"cart_reminder"'
journeys lou | grep -q '"flow":"order_followup"'   # order_paid starts the transactional follow-up
redis-cli -p "$redis_port" XRANGE trellis:events:dead - + | grep -q 'missing user id'
echo "redis producer example: ok"
