#!/usr/bin/env bash
# Ingestion benchmark (issue 4), in one run on one machine, against the benchmark cluster of
# ../shared/tools (pg-up.sh: postgresql://postgres@127.0.0.1:55432/gis, public.parcels = 1M
# parcels from gen-parcels.py):
#   - ogr2ogr (PG_USE_COPY, ../shared/tools/ogr-roundtrip.sh) loading FlatGeobuf, GeoJSONSeq and
#     Shapefile exports of public.parcels;
#   - `geosector import land.parcels <same file> --replace` with every validation (overlaps
#     included) and without the topology check (overlaps off), each format, with peak RSS;
#   - the floor: a plain `COPY … FROM … (FORMAT binary)` of the same rows into a table without
#     indexes;
#   - peak RSS at 1M and 5M parcels (the project's own generator, FlatGeobuf).
# Runs are interleaved (ogr2ogr, then geosector, per format and run) so both see the same
# machine. Output: one line per measurement on stdout and in $RESULTS; medians in
# docs/benchmarks.md.
#
#   cargo build --release --bin geosector
#   ../shared/tools/pg-up.sh && python3 ../shared/tools/gen-parcels.py -n 1000000   # once
#   benches/ingest.sh [runs]        # FORMATS="fgb" to load only some formats, MEMORY=0 to skip
#                                   # the 1M/5M memory runs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-3}
BIN=${BIN:-target/release/geosector}
T=../shared/tools
URL=${BENCH_URL:-postgresql://postgres@127.0.0.1:55432/gis}
DATA=${DATA:-/tmp/bench/data}
RESULTS=${RESULTS:-/tmp/bench/results/ingest.jsonl}
export DATABASE_URL=$URL DATA
mkdir -p "$(dirname "$RESULTS")"
NO_TOPOLOGY=$(mktemp --suffix .toml)
printf '[land.parcels]\n"land.overlaps" = "off"\n' > "$NO_TOPOLOGY"
trap 'rm -f "$NO_TOPOLOGY"' EXIT

emit() { echo "$1" | tee -a "$RESULTS"; }
# geosector import with wall time and peak RSS: emit {"tool":…,"format":…,"wall_s":…,"rss_kb":…}
ours() {
  local label=$1 format=$2; shift 2
  local t
  RUST_LOG=geosector_ingest=info /usr/bin/time -o /tmp/bench/ingest-time -f '%e %M' \
    "$BIN" --database-url "$URL" import land.parcels "$@" --replace >/tmp/bench/ingest-last.log 2>&1
  grep -q 'accepted' /tmp/bench/ingest-last.log || { echo "import failed:" >&2; cat /tmp/bench/ingest-last.log >&2; exit 1; }
  sed 's/\x1b\[[0-9;]*m//g' /tmp/bench/ingest-last.log | grep -E 'staged|indexes built|overlaps checked|moved' | sed 's/^/  # /' >&2
  t=$(tail -n 1 /tmp/bench/ingest-time)
  emit "{\"tool\":\"$label\",\"format\":\"$format\",\"wall_s\":${t% *},\"rss_kb\":${t#* }}"
}

"$BIN" --database-url "$URL" migrate >/dev/null
[ -s "$DATA/parcels.fgb" ] && [ -s "$DATA/parcels.geojsonl" ] && [ -s "$DATA/parcels.shp" ] \
  || RESULTS=$RESULTS "$T/ogr-roundtrip.sh" --formats "fgb geojsonl shp"

for run in $(seq "$RUNS"); do
  echo "# run $run: $(uptime)" >&2
  for f in ${FORMATS:-fgb geojsonl shp}; do
    RESULTS=$RESULTS "$T/ogr-roundtrip.sh" --skip-export --formats "$f" >/dev/null
    tail -n 1 "$RESULTS"
    # --historical: gen-parcels uses the legacy land-use code BHK and no survey date (the code
    # rule still runs on every parcel, it accepts legacy codes).
    ours geosector "$f" "$DATA/parcels.$f" --historical
    ours geosector-no-topology "$f" "$DATA/parcels.$f" --historical --rules "$NO_TOPOLOGY"
  done
  # The floor: the same rows (as geosector stored them) dumped in COPY binary, loaded with COPY.
  psql -X -q -d "$URL" -c "\\copy (SELECT commune_code, sheet_number, parcel_number, land_use_codes, declared_area_m2, geom, source_srid, computed_area_m2 FROM land.parcels) TO '$DATA/parcels.pgcopy' (FORMAT binary)"
  psql -X -q -d "$URL" -c "DROP TABLE IF EXISTS public.floor_copy" \
    -c "CREATE TABLE public.floor_copy (commune_code text, sheet_number integer, parcel_number text, land_use_codes text[], declared_area_m2 double precision, geom geometry(MultiPolygon, 4326), source_srid integer, computed_area_m2 double precision)"
  /usr/bin/time -o /tmp/bench/ingest-time -f '%e' psql -X -q -d "$URL" -c "\\copy public.floor_copy FROM '$DATA/parcels.pgcopy' (FORMAT binary)"
  t=$(tail -n 1 /tmp/bench/ingest-time)
  emit "{\"tool\":\"copy-binary-floor\",\"format\":\"pgcopy\",\"wall_s\":$t}"
done

# Memory: peak RSS at 1M and 5M parcels (every validation), the project's own generator.
[ "${MEMORY:-1}" = 0 ] && exit 0
for n in 1000000 5000000; do
  f=$DATA/synth-$n.fgb
  [ -s "$f" ] || "$BIN" sample-data --parcels "$n" --seed 1 --out "$f" >/dev/null
  ours geosector-synth "fgb-$n" "$f"
done
