#!/usr/bin/env bash
# CTest driver of the shop-day example: `trellis serve` with the example flows on a
# free loopback port, shop_day.py against it, and checks on what it reports.
#   test.sh TRELLIS_BINARY REPO_ROOT
set -euo pipefail
trellis=$1
root=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"

start_trellis "$trellis" "$root/flows"
python3 "$here/shop_day.py" "$TRELLIS_URL" | tee "$EXAMPLE_TMP/report.txt"

expect() {
  grep -qE "$1" "$EXAMPLE_TMP/report.txt" || { echo "report lacks: $1" >&2; exit 1; }
}
expect '^posted 16 events: 16 accepted, 0 duplicates'
expect '^resent 5: 0 accepted, 5 duplicates'
expect 'mia +welcome_series: waiting_timer at wait_tour'           # welcome email sent, tour in 2 days
expect 'mia +cart_reminder \[c-mia-1\]: waiting_timer at wait_pay'  # 72-hour reminder armed
expect 'noah +cart_reminder \[c-noah-1\]: exited'                  # paid within minutes
expect 'olga +cart_reminder \[c-olga-2\]'                          # only the cart over 20
expect 'email +mia +[a-z]+ +Welcome to Trellis Shop, Mia!'
if grep -q 'c-olga-1' "$EXAMPLE_TMP/report.txt"; then
  echo "the 12.50 cart is below the reminder's threshold and must start nothing" >&2
  exit 1
fi
echo "shop day example: ok"
