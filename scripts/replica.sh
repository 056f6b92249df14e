#!/usr/bin/env bash
# PostgreSQL 15 streaming replicas on loopback, from Debian's PostgreSQL binaries
# (docs/deployment.md#read-replicas). For development and tests: fsync is off.
#
#   scripts/replica.sh start         a hot standby of the dev cluster (scripts/dev-db.sh), made by
#                                    pg_basebackup under .geosector/pg-replica/, started on a free
#                                    port; prints its URL (same database name) as the last line
#   scripts/replica.sh stop          stop that standby
#   scripts/replica.sh pair DIR      a fresh primary and a standby of it under DIR (both started);
#                                    prints `primary=URL` and `replica=URL`
#   scripts/replica.sh stop-pair DIR stop both
#
# The standby is made with `pg_basebackup -R -X stream` (replication from 127.0.0.1 is allowed
# by initdb's default pg_hba.conf), streams from the primary and answers read-only queries
# (hot_standby, with hot_standby_feedback so replay does not cancel long reads).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_NAME="${GEOSECTOR_DB_NAME:-geosector}"

log() { echo "replica: $*" >&2; }

run_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The settings of both servers: loopback only, no Unix socket, throwaway durability.
common_opts() {
  echo "-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=100 -c max_locks_per_transaction=256 -c wal_level=replica -c max_wal_senders=10 -c hot_standby=on -c hot_standby_feedback=on"
}

# A directory the server's OS user can write (the postgres user when run as root).
own_dir() {
  mkdir -p "$1"
  if [ "$(id -u)" = 0 ]; then chown postgres "$1"; chmod 700 "$1"; fi
}

start_server() { # DATA PORT [EXTRA OPTIONS]
  run_pg "$PG_BIN/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 -o "$(common_opts "$2") ${3:-}" start >/dev/null
}

# A standby refuses to replay with lower limits than its primary's: copy them.
primary_limits() { # PRIMARY_PORT
  "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc "
    SELECT string_agg(format('-c %s=%s', name, setting), ' ') FROM pg_settings
     WHERE name IN ('max_connections', 'max_locks_per_transaction', 'max_worker_processes',
                    'max_prepared_transactions', 'max_wal_senders')"
}

stop_server() { # DATA
  if [ -f "$1/PG_VERSION" ] && run_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; then
    run_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null
  fi
}

# A standby of the server on 127.0.0.1:$1 in $2, started on a free port; prints the port.
make_standby() { # PRIMARY_PORT DATA
  local primary_port="$1" data="$2" port
  own_dir "$data"
  run_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data" -R -X stream -c fast >&2
  port="$(free_port)"
  start_server "$data" "$port" "$(primary_limits "$primary_port")"
  echo "$port"
}

# Waits until the standby answers as a standby.
wait_standby() { # PORT
  for _ in $(seq 1 100); do
    if [ "$("$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ]; then
      return
    fi
    sleep 0.1
  done
  log "the standby on port $1 does not answer"
  exit 1
}

pair() {
  local dir="$1" port rport
  own_dir "$dir"
  log "primary: initdb in $dir/primary"
  run_pg "$PG_BIN/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  port="$(free_port)"
  start_server "$dir/primary" "$port"
  echo "$port" >"$dir/primary.port"
  "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$DB_NAME\"" >&2
  log "standby: pg_basebackup into $dir/replica"
  rport="$(make_standby "$port" "$dir/replica")"
  echo "$rport" >"$dir/replica.port"
  wait_standby "$rport"
  echo "primary=postgresql://postgres@127.0.0.1:$port/$DB_NAME"
  echo "replica=postgresql://postgres@127.0.0.1:$rport/$DB_NAME"
}

stop_pair() {
  stop_server "$1/replica"
  stop_server "$1/primary"
  log "stopped"
}

dev_root() {
  # Where scripts/dev-db.sh keeps its cluster, and the port it listens on.
  local url; url="$("$REPO/scripts/dev-db.sh" url)"
  DEV_PORT="$(printf '%s' "$url" | sed -E 's#.*@127\.0\.0\.1:([0-9]+)/.*#\1#')"
  DB_NAME="${url##*/}"
  ROOT="$REPO/.geosector/pg-replica"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$REPO/.geosector"; then
    ROOT="/var/tmp/geosector-pg-replica-$(printf '%s' "$REPO" | sha1sum | cut -c1-12)"
  fi
}

start() {
  dev_root
  if [ -f "$ROOT/data/PG_VERSION" ] && run_pg "$PG_BIN/pg_ctl" -D "$ROOT/data" status >/dev/null 2>&1; then
    log "already running"
  else
    rm -rf "$ROOT/data"
    own_dir "$ROOT"
    log "standby of 127.0.0.1:$DEV_PORT: pg_basebackup into $ROOT/data"
    make_standby "$DEV_PORT" "$ROOT/data" >"$ROOT/port"
    wait_standby "$(cat "$ROOT/port")"
  fi
  echo "postgresql://postgres@127.0.0.1:$(cat "$ROOT/port")/$DB_NAME"
}

stop() {
  dev_root
  stop_server "$ROOT/data"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pair) [ -n "${2:-}" ] || { echo "usage: $0 pair DIR" >&2; exit 2; }; pair "$2" ;;
  stop-pair) [ -n "${2:-}" ] || { echo "usage: $0 stop-pair DIR" >&2; exit 2; }; stop_pair "$2" ;;
  *) echo "usage: $0 start|stop|pair DIR|stop-pair DIR" >&2; exit 2 ;;
esac
