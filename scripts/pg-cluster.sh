#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and benchmarks (Debian's `postgresql`):
#
#   scripts/pg-cluster.sh start        prints "DIR URL": a new cluster in a temporary
#                                      directory DIR, listening on a free loopback port
#                                      with its socket in DIR; URL is its conninfo URL
#   scripts/pg-cluster.sh stop DIR     stops that cluster (-m immediate) and removes DIR
#
# initdb refuses to run as root, so as root (CI) the data directory belongs to the
# `postgres` system user and the server runs as that user. PG_OPTS adds server
# settings ("-c fsync=off ..."). Only ever stops the cluster in the DIR it is given.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "pg-cluster: PostgreSQL is not installed (scripts/install-deps.sh)" >&2; exit 1; }

as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

case "${1:-}" in
  start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/trellis-pg.XXXXXX")
    chmod 755 "$dir"
    mkdir "$dir/data"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir" "$dir/data"; fi
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port can be taken between the probe and the start: try a few.
    for _ in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
           -o "-p $port -k $dir -c listen_addresses=127.0.0.1 ${PG_OPTS:-}" start >/dev/null; then
        echo "$dir postgresql://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2 || true
    exit 1
    ;;
  stop)
    dir=${2:?usage: pg-cluster.sh stop DIR}
    [ -f "$dir/data/PG_VERSION" ] || { echo "pg-cluster: $dir is not a cluster of this script" >&2; exit 1; }
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-cluster.sh start | stop DIR" >&2
    exit 2
    ;;
esac
