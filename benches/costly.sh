#!/usr/bin/env bash
# Legal but costly requests (issue 22), before and after:
#   1. a whole-world bbox page, first and 50th page by `next`, on the 1M-parcel bench database
#      (`gis`): served by BEFORE and by AFTER (one server at a time);
#   2. an accent-insensitive address search with a leading wildcard
#      (`filter=ACCENTI(address) LIKE '%…%'`) on 300,000 generated parcels (the bench parcels have
#      no address), database `gis_costly`, made on the first run with AFTER (`migrate`, then
#      `sample-data` + `import`): served by AFTER without the trigram index of migration 0031
#      (dropped for the run) and with it (created again as the migration does).
# Each request is sent RUNS times (default 7) after one warm-up; the median of curl's total time
# is printed. `uptime` is printed first: the machine's load.
#
#   benches/costly.sh BEFORE_BIN AFTER_BIN
#
# Needs the bench PostGIS of /work/shared/tools/pg-up.sh (port 55432; BENCH_PG overrides the
# server URL without a database).
set -euo pipefail

BEFORE=${1:?usage: benches/costly.sh BEFORE_BIN AFTER_BIN}
AFTER=${2:?usage: benches/costly.sh BEFORE_BIN AFTER_BIN}
PG=${BENCH_PG:-postgresql://postgres@127.0.0.1:55432}
RUNS=${RUNS:-7}
WORK=$(mktemp -d /tmp/costly.XXXXXX)
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Median seconds of RUNS GETs of a URL (after one warm-up).
measure() {
  curl -s -o /dev/null "$1"
  for _ in $(seq "$RUNS"); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | median
}

# Starts BIN serving database URL; sets BASE and SERVER_PID.
serve() {
  "$1" serve --database-url "$2" --bind 127.0.0.1:0 --workers 2 --pool-size 8 >"$WORK/out" 2>"$WORK/err" &
  SERVER_PID=$!
  for _ in $(seq 300); do
    BASE=$(sed -n 's/^geosector listening on //p' "$WORK/out" | head -1)
    [ -n "$BASE" ] && return
    sleep 0.1
  done
  echo "the server did not start: $(cat "$WORK/err")" >&2
  exit 1
}

stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

# The URL of the 50th page of a request, by following `next` links.
page_50() {
  local url=$1
  for _ in $(seq 49); do
    url=$(curl -s "$url" | python3 -c 'import json,sys; print(next(l["href"] for l in json.load(sys.stdin)["links"] if l["rel"] == "next"))')
  done
  echo "$url"
}

psql_() { psql "$PG/$1" -qAtc "$2"; }

echo "uptime: $(uptime)"
world='/collections/land.parcels/items?bbox=-180,-90,180,90&limit=100'
for bin in "$BEFORE" "$AFTER"; do
  serve "$bin" "$PG/gis"
  first=$(measure "$BASE$world")
  fiftieth=$(measure "$(page_50 "$BASE$world")")
  echo "world bbox, $(basename "$bin"): first page ${first} s, 50th page ${fiftieth} s (median of $RUNS)"
  stop
done

if [ "$(psql_ postgres "SELECT count(*) FROM pg_database WHERE datname = 'gis_costly'")" = 0 ]; then
  psql_ postgres "CREATE DATABASE gis_costly"
  DATABASE_URL="$PG/gis_costly" "$AFTER" migrate >/dev/null
  "$AFTER" sample-data --parcels 300000 --seed 22 --out "$WORK/parcels.geojsonl" >/dev/null
  DATABASE_URL="$PG/gis_costly" "$AFTER" import land.parcels "$WORK/parcels.geojsonl" --crs EPSG:5897 >/dev/null
  psql_ gis_costly "ANALYZE land.parcels"
fi
rare="/collections/land.parcels/items?limit=10&filter=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("ACCENTI(address) LIKE '"'"'%Thon 987654,%'"'"'"))')"
common="/collections/land.parcels/items?limit=10&filter=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("ACCENTI(address) LIKE '"'"'%Thon 12,%'"'"'"))')"
index="CREATE INDEX parcels_address_accenti_trgm_idx ON land.parcels USING gin (meta.accenti(address) public.gin_trgm_ops)"
for with_index in no yes; do
  if [ "$with_index" = no ]; then
    psql_ gis_costly "DROP INDEX IF EXISTS land.parcels_address_accenti_trgm_idx"
  else
    psql_ gis_costly "DROP INDEX IF EXISTS land.parcels_address_accenti_trgm_idx; $index; ANALYZE land.parcels"
  fi
  serve "$AFTER" "$PG/gis_costly"
  echo "ACCENTI(address) LIKE, trigram index: $with_index: no match $(measure "$BASE$rare") s, a hamlet $(measure "$BASE$common") s (median of $RUNS)"
  stop
done
