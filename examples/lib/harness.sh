# Shared by the examples' test drivers (sourced, not run): a temporary folder, free
# loopback ports, and servers started in the background that are stopped on exit.
# Only the processes started here are ever signalled, by their own pid.

EXAMPLE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/trellis-example-XXXXXX")
EXAMPLE_PIDS=()

example_cleanup() {
  local pid
  for pid in "${EXAMPLE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$EXAMPLE_TMP"
}
trap example_cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# until_ok SECONDS COMMAND...: retries COMMAND every 0.1 s for at most SECONDS.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.1
  done
}

# start_trellis TRELLIS FLOWS_DIR [serve options...]: `trellis serve` on a free port
# with a fresh database in EXAMPLE_TMP; sets TRELLIS_URL once /healthz answers.
start_trellis() {
  local trellis=$1 flows=$2
  shift 2
  local port
  port=$(free_port)
  mkdir -p "$EXAMPLE_TMP/flows"
  cp "$flows"/*.yaml "$flows"/*.flow "$EXAMPLE_TMP/flows/" 2>/dev/null || true
  "$trellis" serve --db "$EXAMPLE_TMP/trellis.db" --flows "$EXAMPLE_TMP/flows" --port "$port" \
    --log-requests off "$@" 2>"$EXAMPLE_TMP/serve.log" &
  EXAMPLE_PIDS+=($!)
  TRELLIS_URL="http://127.0.0.1:$port"
  if ! until_ok 30 curl -sf "$TRELLIS_URL/healthz"; then
    tail -20 "$EXAMPLE_TMP/serve.log" >&2
    return 1
  fi
}
