#!/usr/bin/env bash
# Harvest benchmark (issue 20, part 5): N parcels (default 100,000) harvested from a second
# geosector (`geosector import land.parcels http://…/collections/land.parcels/items`) vs imported
# from a FlatGeobuf file of the same parcels, each into a fresh, migrated, empty database of the
# bench cluster (../shared/tools/pg-up.sh: 127.0.0.1:55432), with every validation rule.
#
# The source: database harvest_src, the same FlatGeobuf imported, served by `geosector serve` on
# a free loopback port (2 workers); it stores lon/lat, so the harvest reads CRS84. Runs are
# interleaved (file, then harvest) so both see the same machine; `uptime` before each run.
# Output: one JSON line per measurement on stdout and in $RESULTS, and the importer's own
# timings (staged, and for the harvest where the reading side spent its time) on stderr.
#
#   CARGO_TARGET_DIR=/work/bench-target cargo build --release --bin geosector
#   cp /work/bench-target/release/geosector /work/bench-bin/geosector-harvest
#   ../shared/tools/pg-up.sh
#   benches/harvest.sh [runs]          # N=100000 PAGE=5000 (features per page) BIN=…
#   REPLACE=1 benches/harvest.sh       # both with --replace (the partition swap, no row triggers)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-3}
N=${N:-100000}
PAGE=${PAGE:-5000}
BIN=${BIN:-/work/bench-bin/geosector-harvest}
CLUSTER=${BENCH_CLUSTER:-postgresql://postgres@127.0.0.1:55432}
DATA=${DATA:-/tmp/bench/harvest}
RESULTS=${RESULTS:-/tmp/bench/results/harvest.jsonl}
mkdir -p "$DATA" "$(dirname "$RESULTS")"
FGB=$DATA/parcels-$N.fgb
[ -s "$FGB" ] || "$BIN" sample-data --parcels "$N" --seed 7 --out "$FGB" >/dev/null

sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$CLUSTER/postgres" -c "$1"; }
emit() { echo "$1" | tee -a "$RESULTS"; }

# A migrated empty template, and the source database (template + the file).
sql "DROP DATABASE IF EXISTS harvest_src WITH (FORCE)"
sql "DROP DATABASE IF EXISTS harvest_tpl WITH (FORCE)"
sql "CREATE DATABASE harvest_tpl"
"$BIN" --database-url "$CLUSTER/harvest_tpl" migrate >/dev/null
sql "CREATE DATABASE harvest_src TEMPLATE harvest_tpl"
"$BIN" --database-url "$CLUSTER/harvest_src" import land.parcels "$FGB" >/dev/null

SERVER_LOG=$DATA/serve.log
"$BIN" --database-url "$CLUSTER/harvest_src" serve --bind 127.0.0.1:0 --workers 2 --max-limit 10000 >"$SERVER_LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; sql "DROP DATABASE IF EXISTS harvest_dst WITH (FORCE)" || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$SERVER_LOG" && break; sleep 0.1; done
BASE=$(sed -n 's/^geosector listening on //p' "$SERVER_LOG" | head -n 1)
ITEMS="$BASE/collections/land.parcels/items?limit=$PAGE"
curl -sf -o /dev/null "$ITEMS" || { echo "the source does not answer: $ITEMS" >&2; exit 1; }

# One import into a fresh database: {"input":…,"wall_s":…,"rss_kb":…,"features_per_s":…}
one() {
  local label=$1 input=$2 t
  sql "DROP DATABASE IF EXISTS harvest_dst WITH (FORCE)"
  sql "CREATE DATABASE harvest_dst TEMPLATE harvest_tpl"
  RUST_LOG=geosector_ingest=info /usr/bin/time -o "$DATA/time" -f '%e %M' \
    "$BIN" --database-url "$CLUSTER/harvest_dst" import land.parcels "$input" ${REPLACE:+--replace} >"$DATA/last.log" 2>&1
  grep -q 'accepted' "$DATA/last.log" || { echo "import failed:" >&2; cat "$DATA/last.log" >&2; exit 1; }
  grep -q "$N rows written" "$DATA/last.log" || { echo "not $N rows:" >&2; cat "$DATA/last.log" >&2; exit 1; }
  sed 's/\x1b\[[0-9;]*m//g' "$DATA/last.log" | grep -E 'staged|harvested|pages fetched|moved|indexes built' | sed 's/^/  # /' >&2
  t=$(tail -n 1 "$DATA/time")
  emit "{\"input\":\"$label\",\"replace\":${REPLACE:-0},\"n\":$N,\"page\":$PAGE,\"wall_s\":${t% *},\"rss_kb\":${t#* },\"features_per_s\":$(echo "$N / ${t% *}" | bc)}"
}

for run in $(seq "$RUNS"); do
  echo "# run $run: $(uptime)" >&2
  one fgb "$FGB"
  one harvest "$ITEMS"
done
