#!/usr/bin/env bash
# Private PostGIS cluster for development and tests, under .geosector/pg/ (git-ignored).
#
#   scripts/dev-db.sh start    install PostgreSQL 15 + PostGIS 3 when missing, create the cluster,
#                              start it on 127.0.0.1 on a free port; prints the URL as the last line
#   scripts/dev-db.sh stop     stop it
#   scripts/dev-db.sh status   say whether it runs
#   scripts/dev-db.sh url      print the URL
#
# When DATABASE_URL is set, every command uses it and starts nothing.
# The cluster is throwaway: fsync is off for speed. Keep nothing precious in it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_NAME="${GEOSECTOR_DB_NAME:-geosector}"
ROOT="$REPO/.geosector/pg"

log() { echo "dev-db: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# When run as root the server runs as the `postgres` OS user, which must reach the data
# directory. If it cannot traverse the repository's path, keep the cluster under /var/tmp.
resolve_root() {
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    mkdir -p "$REPO/.geosector"
    if ! runuser -u postgres -- test -x "$REPO/.geosector"; then
      ROOT="/var/tmp/geosector-pg-$(printf '%s' "$REPO" | sha1sum | cut -c1-12)"
    fi
  fi
  DATA="$ROOT/data"
}

run_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://postgres@127.0.0.1:$(cat "$ROOT/port")/$DB_NAME"; }

install_packages() {
  # unaccent (contrib, shipped in Debian's postgresql-15) backs ACCENTI filters and catalogue search.
  if [ -x "$PG_BIN/postgres" ] && [ -f /usr/share/postgresql/15/extension/postgis.control ] \
    && [ -f /usr/share/postgresql/15/extension/unaccent.control ]; then
    return
  fi
  log "installing postgresql-15-postgis-3 (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 postgresql-client-15 >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_is_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

running() { [ -f "$DATA/PG_VERSION" ] && run_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  install_packages
  resolve_root
  if running; then
    log "already running"
    url
    return
  fi
  mkdir -p "$ROOT"
  [ "$(id -u)" = 0 ] && chown postgres "$ROOT"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "creating the cluster in $DATA"
    run_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if [ ! -s "$ROOT/port" ] || ! port_is_free "$(cat "$ROOT/port")"; then
    free_port >"$ROOT/port.tmp" && mv "$ROOT/port.tmp" "$ROOT/port"
  fi
  local port; port="$(cat "$ROOT/port")"
  log "starting on 127.0.0.1:$port"
  run_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c shared_buffers=512MB -c max_connections=200 -c max_locks_per_transaction=256" \
    start >/dev/null
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$DB_NAME\"" >&2
  fi
  url
}

stop() {
  resolve_root
  if running; then
    run_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

status() {
  resolve_root
  if running; then echo "running: $(url)"; else echo "stopped"; return 1; fi
}

cmd="${1:-}"
if [ -n "${DATABASE_URL:-}" ]; then
  case "$cmd" in
    start|url|status) echo "$DATABASE_URL"; exit 0 ;;
    stop) log "DATABASE_URL is set: nothing to stop"; exit 0 ;;
  esac
fi
case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) resolve_root; if [ -s "$ROOT/port" ]; then url; else log "no cluster yet: run scripts/dev-db.sh start"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
