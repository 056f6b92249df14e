#!/usr/bin/env bash
# Monitoring benchmarks (issue 7), commands in docs/benchmarks.md:
#  1. import 10 M observation lines with `geosector import` vs a plain COPY of the same rows into
#     the same partitioned table (the floor), each in a fresh database, same run;
#  2. hourly + daily VN_AQI of 1,000 stations × 1 year, timed by the import's
#     "indices refreshed" log line.
# Needs a release build and the dev cluster:  cargo build --release --bin geosector
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=target/release/geosector
URL=${DATABASE_URL:-$(scripts/dev-db.sh url | tail -n 1)}
BASE=${URL%/*}
fresh() { psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; $BIN --database-url "$BASE/$1" migrate >/dev/null; }

[ -f /tmp/obs10m/observations.csv ] || python3 benches/monitoring_data.py --stations 1000 --hours 1667 --params 6 --out /tmp/obs10m

echo "== floor: COPY of the same rows into environment.observations"
fresh bench_copy
$BIN --database-url "$BASE/bench_copy" import environment.stations /tmp/obs10m/stations.geojson >/dev/null
psql -q "$BASE/bench_copy" -c "SELECT environment.ensure_observation_partitions('2026-01-01', '2026-03-15')"
/usr/bin/time -f "COPY: %e s" psql -q "$BASE/bench_copy" -c \
  "\\copy environment.observations (station_code, parameter, value, unit, status, observed_at) FROM '/tmp/obs10m/observations.csv' CSV HEADER"

echo "== geosector import (parse, normalise, check, COPY BINARY into staging, upsert, AQI refresh)"
fresh bench_import
$BIN --database-url "$BASE/bench_import" import environment.stations /tmp/obs10m/stations.geojson >/dev/null
RUST_LOG=geosector_ingest=info /usr/bin/time -f "geosector import: %e s, max RSS %M kB" \
  $BIN --database-url "$BASE/bench_import" import environment.observations /tmp/obs10m/observations.csv 2>&1 \
  | grep -E 'staged|moved|indices refreshed|geosector import|rows written'

echo "== hourly + daily VN_AQI, 1,000 stations × 1 year (PM2.5 + NO2)"
[ -f /tmp/obs1y/observations.csv ] || python3 benches/monitoring_data.py --stations 1000 --hours 8760 --params 2 --start 2025-01-01T00:00:00 --out /tmp/obs1y
fresh bench_aqi
$BIN --database-url "$BASE/bench_aqi" import environment.stations /tmp/obs1y/stations.geojson >/dev/null
RUST_LOG=geosector_ingest=info $BIN --database-url "$BASE/bench_aqi" import environment.observations /tmp/obs1y/observations.csv 2>&1 \
  | grep -E 'staged|moved|indices refreshed|rows written'
