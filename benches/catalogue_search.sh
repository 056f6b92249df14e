#!/usr/bin/env bash
# Catalogue search benchmark (docs/benchmarks.md, "Catalogue search"): a fresh database on the
# bench cluster (/work/shared/tools/pg-up.sh), migrated; 10,000 generated records in a catalogue
# file; `geosector serve --catalogue` (release build); then benches/catalogue_search.py times the
# query mix one request at a time and prints p50/p95/max per query and overall.
#
#   benches/catalogue_search.sh /work/bench-bin/geosector-catalogue-<commit> [PG_URL] [RECORDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="$1"
PG="${2:-postgresql://postgres@127.0.0.1:55432/gis}"
N="${3:-10000}"
PY="${GEOSECTOR_PYTHON:-python3}"
WORK="$(mktemp -d /tmp/catalogue-bench.XXXXXX)"
DB="catalogue_bench"
URL="${PG%/*}/$DB"
psql "$PG" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
DATABASE_URL="$URL" "$BIN" migrate >/dev/null
"$PY" benches/catalogue_search.py gen "$WORK/records.toml" "$N"
PORT=18790
started=$(date +%s.%N)
DATABASE_URL="$URL" RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --workers 2 --catalogue "$WORK/records.toml" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
echo "server ready (records written) in $(echo "$(date +%s.%N) - $started" | bc) s" >&2
psql "$URL" -Atc "SELECT 'records in the table: ' || count(*) FROM catalogue.records" >&2
"$PY" benches/catalogue_search.py run "http://127.0.0.1:$PORT" "${REQUESTS:-40}"
