#!/usr/bin/env bash
# Monitoring benchmarks (issues 7 and 22), commands and figures in docs/benchmarks.md:
#  1. import 10 M observation lines with `geosector import` vs a plain `\copy` of the same rows
#     into the same partitioned table (the floor), each into a fresh database, interleaved
#     ROUNDS times (floor, import, floor, import, …) so that the machine's load weighs on both
#     alike; prints every run and the medians;
#  2. hourly + daily VN_AQI of 1,000 stations × 1 year (17.5 M lines of PM2.5 and NO2), timed by
#     the import's "load hook ran" log line (AQI_ROUNDS times);
#  3. the same refresh alone, against its floor: the year's observations \copy'd once into a
#     fresh database, then benches/examples/aqi_refresh.rs alternates the refresh (rolled back)
#     with a plain COPY of the very same hourly and daily values into the same tables
#     (REFRESH_ROUNDS times; needs the example's release build, REFRESH_BIN).
# Needs a release build (BIN, default target/release/geosector) and a PostgreSQL: DATABASE_URL's
# server (the docs use the bench PostGIS of ../shared/tools, port 55432), else the dev cluster.
#   BIN=target/release/geosector DATABASE_URL=postgresql://postgres@127.0.0.1:55432/gis benches/monitoring.sh
# ROUNDS=0 skips part 1, AQI_ROUNDS=0 part 2, REFRESH_ROUNDS=0 part 3. Part 3's program:
#   cargo build --release -p geosector-benches --example aqi_refresh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-target/release/geosector}
ROUNDS=${ROUNDS:-3}
AQI_ROUNDS=${AQI_ROUNDS:-1}
REFRESH_ROUNDS=${REFRESH_ROUNDS:-3}
REFRESH_BIN=${REFRESH_BIN:-$(dirname "$BIN")/examples/aqi_refresh}
URL=${DATABASE_URL:-$(scripts/dev-db.sh url | tail -n 1)}
BASE=${URL%/*}
LOGS=${LOGS:-/tmp/monitoring-bench}
mkdir -p "$LOGS"
fresh() { psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; $BIN --database-url "$BASE/$1" migrate >/dev/null; }
now() { date +%s.%N; }
# The seconds of a step from an import's log (tracing: `… <message> … seconds=12.3`, colours off).
step() { sed -E 's/\x1b\[[0-9;]*m//g' "$1" | grep -E "$2" | tail -n 1 | sed -E 's/.*seconds=([0-9.]+).*/\1/'; }
median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.1f}")' "$@"; }

[ "$ROUNDS" -eq 0 ] || [ -f /tmp/obs10m/observations.csv ] ||
  python3 benches/monitoring_data.py --stations 1000 --hours 1667 --params 6 --out /tmp/obs10m

echo "uptime before: $(uptime)"
copies=() imports=() staged=() moved=() hooks=()
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: floor, \\copy of the same rows into environment.observations"
  fresh bench_copy
  $BIN --database-url "$BASE/bench_copy" import environment.stations /tmp/obs10m/stations.geojson >/dev/null
  psql -q "$BASE/bench_copy" -c "SELECT environment.ensure_observation_partitions('2026-01-01', '2026-03-15')" >/dev/null
  t0=$(now)
  psql -q "$BASE/bench_copy" -c \
    "\\copy environment.observations (station_code, parameter, value, unit, status, observed_at) FROM '/tmp/obs10m/observations.csv' CSV HEADER"
  copies+=("$(echo "$(now) - $t0" | bc)")
  echo "   \\copy: ${copies[-1]} s   ($(uptime | sed 's/.*load/load/'))"
  psql -q "$BASE/postgres" -c "DROP DATABASE bench_copy"

  echo "== round $round: geosector import (parse, normalise, check, COPY into staging, insert, AQI refresh)"
  fresh bench_import
  $BIN --database-url "$BASE/bench_import" import environment.stations /tmp/obs10m/stations.geojson >/dev/null
  log="$LOGS/import-$round.log"
  t0=$(now)
  RUST_LOG=geosector_ingest=info,geosector_environment=info /usr/bin/time -f "max RSS %M kB" \
    $BIN --database-url "$BASE/bench_import" import environment.observations /tmp/obs10m/observations.csv >"$log" 2>&1
  imports+=("$(echo "$(now) - $t0" | bc)")
  staged+=("$(step "$log" 'staged dataset')") moved+=("$(step "$log" 'moved into the live table')") hooks+=("$(step "$log" 'load hook ran')")
  echo "   import: ${imports[-1]} s (staged at ${staged[-1]} s, move ${moved[-1]} s, VN_AQI refresh ${hooks[-1]} s)   ($(uptime | sed 's/.*load/load/'))"
  grep -E 'rows written|max RSS|every key was new|upserting' "$log" | sed 's/^/   /'
  psql -q "$BASE/postgres" -c "DROP DATABASE bench_import"
done
if [ "$ROUNDS" -gt 0 ]; then
  c=$(median "${copies[@]}") i=$(median "${imports[@]}") h=$(median "${hooks[@]}")
  echo "== medians of $ROUNDS rounds: \\copy $c s; geosector import $i s (staged $(median "${staged[@]}") s, move $(median "${moved[@]}") s, refresh $h s)"
  echo "   ratio geosector / \\copy: $(echo "scale=2; $i / $c" | bc) with the index refresh, $(echo "scale=2; ($i - $h) / $c" | bc) without"
fi

[ "$AQI_ROUNDS" -eq 0 ] && [ "$REFRESH_ROUNDS" -eq 0 ] && exit 0
[ -f /tmp/obs1y/observations.csv ] ||
  python3 benches/monitoring_data.py --stations 1000 --hours 8760 --params 2 --start 2025-01-01T00:00:00 --out /tmp/obs1y
[ "$AQI_ROUNDS" -eq 0 ] || echo "== hourly + daily VN_AQI, 1,000 stations × 1 year (PM2.5 + NO2)"
aqi=()
for round in $(seq 1 "$AQI_ROUNDS"); do
  fresh bench_aqi
  $BIN --database-url "$BASE/bench_aqi" import environment.stations /tmp/obs1y/stations.geojson >/dev/null
  log="$LOGS/aqi-$round.log"
  echo "   uptime: $(uptime)"
  RUST_LOG=geosector_ingest=info,geosector_environment=info /usr/bin/time -f "max RSS %M kB" \
    $BIN --database-url "$BASE/bench_aqi" import environment.observations /tmp/obs1y/observations.csv >"$log" 2>&1
  aqi+=("$(step "$log" 'load hook ran')")
  echo "   staged at $(step "$log" 'staged dataset') s, move $(step "$log" 'moved into the live table') s, VN_AQI refresh ${aqi[-1]} s"
  grep -E 'rows written|indices:|max RSS' "$log" | sed 's/^/   /'
  psql -q "$BASE/postgres" -c "DROP DATABASE bench_aqi"
done
[ "$AQI_ROUNDS" -eq 0 ] || echo "== VN_AQI refresh, median of $AQI_ROUNDS: $(median "${aqi[@]}") s"
[ "$REFRESH_ROUNDS" -eq 0 ] && exit 0
echo "== VN_AQI refresh alone vs a COPY of its values, 1,000 stations × 1 year"
fresh bench_refresh
$BIN --database-url "$BASE/bench_refresh" import environment.stations /tmp/obs1y/stations.geojson >/dev/null
psql -q "$BASE/bench_refresh" -c "SELECT environment.ensure_observation_partitions('2024-12-01', '2026-01-31')" >/dev/null
psql -q "$BASE/bench_refresh" -c \
  "\\copy environment.observations (station_code, parameter, value, unit, status, observed_at) FROM '/tmp/obs1y/observations.csv' CSV HEADER"
psql -q "$BASE/bench_refresh" -c "VACUUM ANALYZE environment.observations"
echo "   uptime: $(uptime)"
"$REFRESH_BIN" "$BASE/bench_refresh" "$REFRESH_ROUNDS" "$LOGS"
echo "   uptime after: $(uptime)"
psql -q "$BASE/postgres" -c "DROP DATABASE bench_refresh"
