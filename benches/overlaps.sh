#!/usr/bin/env bash
# overlaps.sh — the overlap check of `geosector import` (R-tree + rayon, geosector_ingest::overlaps)
# timed against PostGIS's self-join with GiST, on the same table, RUNS runs each, medians.
#
# Usage: benches/overlaps.sh            (from the repository root)
#   DATABASE_URL  default postgresql://postgres@127.0.0.1:55432/gis (/work/shared/tools/pg-up.sh)
#   TABLE         default public.bench_overlap_parcels; PREPARE=1 (re)creates it from land.parcels:
#                 a copy of the 1M generated parcels in which the 1,000 parcels with id % 1000 = 0
#                 are moved by ST_Translate(geom, 0.00003, 0.00002) (≈ 3.1 m east, 2.2 m north at
#                 21° N), so that they overlap their neighbours; GiST index, VACUUM ANALYZE.
#   RUNS          default 3;  OUT  default /tmp/overlaps (logs, pair lists)
# Needs: cargo build --release -p geosector-benches --example overlap_bench
set -euo pipefail

URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:55432/gis}"
TABLE="${TABLE:-public.bench_overlap_parcels}"
RUNS="${RUNS:-3}"
OUT="${OUT:-/tmp/overlaps}"
BIN="${BIN:-target/release/examples/overlap_bench}"
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "overlaps.sh: build $BIN first" >&2; exit 1; }

if [ "${PREPARE:-0}" = 1 ]; then
  psql -X -q -v ON_ERROR_STOP=1 "$URL" <<SQL
DROP TABLE IF EXISTS $TABLE;
CREATE TABLE $TABLE AS
  SELECT id, CASE WHEN id % 1000 = 0 THEN ST_Translate(geom, 0.00003, 0.00002) ELSE geom END
             ::geometry(MultiPolygon, 4326) AS geom
  FROM land.parcels;
ALTER TABLE $TABLE ADD PRIMARY KEY (id);
CREATE INDEX ON $TABLE USING gist (geom);
VACUUM ANALYZE $TABLE;
SQL
fi

JOIN="FROM $TABLE a JOIN $TABLE b ON a.id < b.id AND a.geom && b.geom AND ST_Overlaps(a.geom, b.geom)"
AREA="AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.5"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Seconds of one psql statement (\timing), and its single value.
pg_time() {
  local label=$1 sql=$2 out
  out=$(psql -X -At -v ON_ERROR_STOP=1 "$URL" -c '\timing on' -c "$sql")
  local count ms
  count=$(printf '%s\n' "$out" | grep -v '^Time\|^Timing' | tail -n 1)
  ms=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
  echo "$label count=$count ms=$ms" >> "$OUT/results.txt"
  awk -v ms="$ms" 'BEGIN { printf "%.2f\n", ms / 1000 }'
}

rust_run() {
  local label=$1 min=$2 pairs=$3 start end
  start=$(date +%s.%N)
  "$BIN" "$URL" "$TABLE" "$min" "$pairs" > "$OUT/$label.log"
  end=$(date +%s.%N)
  { echo "$label total=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"; cat "$OUT/$label.log"; } >> "$OUT/results.txt"
}

: > "$OUT/results.txt"; : > "$OUT/times.txt"
{ echo "date: $(date -Is)"; echo "machine: $(nproc) cores, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)";
  psql -X -At "$URL" -c 'select version()' -c 'select postgis_full_version()' -c "select count(*) from $TABLE"
  psql -X -At "$URL" -c 'show max_parallel_workers_per_gather' -c 'show work_mem'; } >> "$OUT/results.txt"

for run in $(seq 1 "$RUNS"); do
  rust_run "rust_0.5_$run" 0.5 "$OUT/rust_pairs_0.5.txt"
  rust_run "rust_0_$run" 0 "$OUT/rust_pairs_0.txt"
  echo "pg_area_$run $(pg_time "pg_area_$run" "SELECT count(*) $JOIN $AREA")" >> "$OUT/times.txt"
  echo "pg_noarea_$run $(pg_time "pg_noarea_$run" "SELECT count(*) $JOIN")" >> "$OUT/times.txt"
  echo "run $run done" >&2
done

# The pair lists of PostGIS (untimed), to compare pair by pair.
psql -X -At -v ON_ERROR_STOP=1 "$URL" -c "\\copy (SELECT a.id || ' ' || b.id $JOIN $AREA ORDER BY 1) TO '$OUT/pg_pairs_0.5.txt'"
psql -X -At -v ON_ERROR_STOP=1 "$URL" -c "\\copy (SELECT a.id || ' ' || b.id $JOIN ORDER BY 1) TO '$OUT/pg_pairs_0.txt'"
for t in 0.5 0; do
  sort "$OUT/rust_pairs_$t.txt" > "$OUT/r.txt"; sort "$OUT/pg_pairs_$t.txt" > "$OUT/p.txt"
  echo "threshold $t: rust $(wc -l < "$OUT/r.txt") pairs, postgis $(wc -l < "$OUT/p.txt"), only rust $(comm -23 "$OUT/r.txt" "$OUT/p.txt" | wc -l), only postgis $(comm -13 "$OUT/r.txt" "$OUT/p.txt" | wc -l)" >> "$OUT/results.txt"
done

{
  echo "--- medians of $RUNS runs (s)"
  for label in rust_0.5 rust_0; do
    echo "$label total $(grep "^${label}_[0-9]* total=" "$OUT/results.txt" | sed 's/.*total=//' | median)"
    echo "$label read+add $(grep -A2 "^${label}_[0-9]* total=" "$OUT/results.txt" | sed -n 's/^read+add *\([0-9.]*\) s.*/\1/p' | median)"
    echo "$label finish $(grep -A3 "^${label}_[0-9]* total=" "$OUT/results.txt" | sed -n 's/^finish *\([0-9.]*\) s/\1/p' | median)"
  done
  for label in pg_area pg_noarea; do
    echo "$label $(grep "^${label}_" "$OUT/times.txt" | awk '{ print $2 }' | median)"
  done
} | tee -a "$OUT/results.txt"
