#!/usr/bin/env bash
# Produces shop events onto the Redis stream that `trellis serve --redis` consumes.
# Each XADD is one entry with one field, `event`, holding an event as JSON (any form
# of docs/events.md; an array works too). Ids make a resend harmless.
#
#   REDIS_HOST=127.0.0.1 REDIS_PORT=6379 STREAM=trellis:events bash produce.sh
set -euo pipefail
host=${REDIS_HOST:-127.0.0.1}
port=${REDIS_PORT:-6379}
stream=${STREAM:-trellis:events}

xadd() {
  redis-cli -h "$host" -p "$port" XADD "$stream" '*' event "$1" >/dev/null
}

# Two shoppers fill their carts; one of them pays.
xadd '{"id": "r-1", "type": "identify", "user_id": "kim", "properties": {"first_name": "Kim", "age": 41, "interests": ["education"], "email": "kim@example.com"}}'
xadd '{"id": "r-2", "type": "identify", "user_id": "lou", "properties": {"first_name": "Lou", "phone": "+4700000011"}}'
xadd '{"id": "r-3", "type": "add_to_cart", "user_id": "kim", "properties": {"cart_id": "cart-kim", "value": 64.5}}'
xadd '{"id": "r-4", "type": "add_to_cart", "user_id": "lou", "properties": {"cart_id": "cart-lou", "value": 23}}'
xadd '{"id": "r-5", "type": "order_paid", "user_id": "lou", "properties": {"cart_id": "cart-lou", "order_id": "o-77"}}'

# Several events in one entry: an array shares one commit.
xadd '[{"id": "r-6", "type": "page_viewed", "user_id": "kim", "properties": {"path": "/cart"}},
       {"id": "r-7", "type": "page_viewed", "user_id": "kim", "properties": {"path": "/help/shipping"}}]'

# A producer bug: no user id. The consumer moves it to `<stream>:dead` with the
# reason and goes on.
xadd '{"id": "r-8", "type": "add_to_cart", "properties": {"cart_id": "cart-x", "value": 99}}'

echo "produced 8 entries on $stream at $host:$port"
