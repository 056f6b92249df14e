#!/usr/bin/env bash
# ingest-budget.sh — where the CPU of a 1M-parcel import goes, ogr2ogr against geosector (no
# topology check), interleaved: per run the wall time, the client's CPU (user + sys) and the CPU
# the PostgreSQL cluster spent meanwhile (every backend, parallel worker and auxiliary process:
# the postmaster's live children plus those it reaped). On a 2-core machine, wall time is at
# least (client CPU + cluster CPU) / 2.
#
# LEAN=1 runs the same pairs a second time with land.parcels cut down to what ogr2ogr builds
# (primary key and GiST index only: the key and land-use B-trees and the CHECK constraints
# dropped), then restores them. It changes the schema of the database it runs against: the
# throwaway bench cluster of ../shared/tools/pg-up.sh only. Autovacuum is off during the runs
# (it would analyse the last load while the next one runs) and is reset on exit.
#
#   cargo build --release --bin geosector
#   ../shared/tools/pg-up.sh                       # and the files of benches/ingest.sh
#   LEAN=1 benches/ingest-budget.sh [runs]         # FORMATS="fgb shp" by default
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-3}
BIN=${BIN:-target/release/geosector}
URL=${BENCH_URL:-postgresql://postgres@127.0.0.1:55432/gis}
DATA=${DATA:-/tmp/bench/data}
T=../shared/tools
export DATA
sql() { psql -X -q -At -d "$URL" "$@"; }

POSTMASTER=$(head -n 1 "$(sql -c 'SHOW data_directory')/postmaster.pid")
TICKS=$(getconf CLK_TCK)
# CPU ticks of the cluster so far: reaped children (postmaster's cutime + cstime) and live ones.
cluster_ticks() {
  local t child
  t=$(awk '{print $16 + $17}' "/proc/$POSTMASTER/stat")
  for child in $(pgrep -P "$POSTMASTER"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
# measure LABEL FORMAT CMD…: runs CMD and prints one JSON line (tool, format, wall_s,
# client_cpu_s, cluster_cpu_s). Wall and client CPU come from CMD's last JSON line when it prints
# one (ogr-roundtrip.sh: ogr2ogr's own), else from the clock and /usr/bin/time.
measure() {
  local label=$1 format=$2 before start end after
  shift 2
  sleep 2 # let the last run's backends exit and be reaped
  before=$(cluster_ticks)
  start=$(date +%s.%N)
  /usr/bin/time -f 'time %U %S' "$@" > "$OUT" 2>&1 || { echo "$label failed:" >&2; cat "$OUT" >&2; exit 1; }
  end=$(date +%s.%N)
  sleep 2
  after=$(cluster_ticks)
  python3 - "$OUT" "$label" "$format" "$start" "$end" "$((after - before))" "$TICKS" <<'EOF'
import json, sys
out, label, fmt, start, end, ticks, hz = sys.argv[1:]
lines = open(out, errors="replace").read().splitlines()
line = next((json.loads(l) for l in reversed(lines) if l.startswith("{")), None)
if line:
    wall, client = line["wall_s"], line["user_s"] + line["sys_s"]
else:
    wall = float(end) - float(start)
    client = sum(map(float, next(l for l in reversed(lines) if l.startswith("time ")).split()[1:]))
print(json.dumps({"tool": label, "format": fmt, "wall_s": round(wall, 2), "client_cpu_s": round(client, 2),
                  "cluster_cpu_s": round(int(ticks) / int(hz), 2)}))
EOF
}
pairs() { # schema label
  local run f
  for run in $(seq "$RUNS"); do
    for f in ${FORMATS:-fgb shp}; do
      measure ogr2ogr "$f" "$T/ogr-roundtrip.sh" --skip-export --formats "$f"
      measure "geosector-no-topology-$1" "$f" "$BIN" --database-url "$URL" import land.parcels \
        "$DATA/parcels.$f" --historical --replace --rules "$NO_TOPOLOGY"
    done
  done
}

NO_TOPOLOGY=$(mktemp --suffix .toml)
RESTORE=$(mktemp --suffix .sql)
OUT=$(mktemp)
printf '[land.parcels]\n"land.overlaps" = "off"\n' > "$NO_TOPOLOGY"
finish() {
  [ -s "$RESTORE" ] && sql -f "$RESTORE" && echo "# land.parcels restored" >&2
  sql -c "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null
  rm -f "$NO_TOPOLOGY" "$RESTORE" "$OUT"
}
trap finish EXIT
sql -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
"$BIN" --database-url "$URL" migrate >/dev/null

pairs schema
[ "${LEAN:-0}" = 1 ] || exit 0
# What ogr2ogr builds: the primary key and the GiST index. The rest is saved to be restored.
sql -c "SELECT replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') || ';' FROM pg_index
        WHERE indrelid = 'land.parcels'::regclass AND NOT indisprimary
          AND indexrelid NOT IN (SELECT oid FROM pg_class WHERE relam = (SELECT oid FROM pg_am WHERE amname = 'gist'))
        UNION ALL
        SELECT format('ALTER TABLE land.parcels ADD CONSTRAINT %I %s;', conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = 'land.parcels'::regclass AND contype = 'c'" > "$RESTORE"
sql -c "SELECT format('DROP INDEX land.%I;', c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'land.parcels'::regclass AND NOT i.indisprimary AND c.relam <> (SELECT oid FROM pg_am WHERE amname = 'gist')
        UNION ALL
        SELECT format('ALTER TABLE land.parcels DROP CONSTRAINT %I;', conname)
        FROM pg_constraint WHERE conrelid = 'land.parcels'::regclass AND contype = 'c'" | sql
pairs lean
