#!/usr/bin/env bash
# Legal but costly requests (issue 22), at the database: the statements the server sends for
#   1. a whole-world bbox page of land.parcels (1M parcels, bench database `gis`), run as the
#      server ran it before (prepared once per connection: after five runs PostgreSQL settles
#      on a generic plan) and as it runs it now (planned with its values on every run);
#   2. `filter=ACCENTI(address) LIKE '%…%'` on 300,000 generated parcels (database
#      `gis_costly`; the bench parcels have no address): without the trigram index of migration
#      0031 (dropped for the run) and with it (created again as the migration does).
# Each is run RUNS times (default 7) after one warm-up in one psql session; the median of
# psql's \timing is printed, with `uptime` first. The SQL is the plan's (crates/geosector/tests/
# it/snapshots/it__plans__plans.snap, land.parcels), the JSON of every row built as served.
#
#   benches/costly.sh                 (BENCH_PG overrides postgresql://postgres@127.0.0.1:55432;
#                                      PARTS="bbox" or "address" runs one part)
#
# `gis_costly` is made on the first run by the `geosector` binary on PATH (GEOSECTOR_BIN):
# migrate, sample-data --parcels 300000 --seed 22, import --crs EPSG:5897, ANALYZE.
set -euo pipefail

PG=${BENCH_PG:-postgresql://postgres@127.0.0.1:55432}
RUNS=${RUNS:-7}
BIN=${GEOSECTOR_BIN:-geosector}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Median milliseconds of the last RUNS of RUNS+1 runs of the statements on stdin (each run is
# one line of SQL ending the series with `-- run`), in one session.
timed() {
  psql "$1" -qAt -v ON_ERROR_STOP=1 -c '\timing on' -f - 2>&1 \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$RUNS" | median
}

BBOX_SQL='SELECT id, ST_AsGeoJSON("geom", 9), json_build_object('"'"'commune_code'"'"', "commune_code", '"'"'former_commune_code'"'"', "former_commune_code", '"'"'sheet_number'"'"', "sheet_number", '"'"'parcel_number'"'"', "parcel_number", '"'"'former_sheet_number'"'"', "former_sheet_number", '"'"'former_parcel_number'"'"', "former_parcel_number", '"'"'land_use_codes'"'"', "land_use_codes", '"'"'land_use_areas_m2'"'"', "land_use_areas_m2", '"'"'declared_area_m2'"'"', "declared_area_m2", '"'"'legal_area_m2'"'"', "legal_area_m2", '"'"'address'"'"', "address", '"'"'map_scale'"'"', "map_scale", '"'"'survey_date'"'"', "survey_date", '"'"'national_id'"'"', "national_id", '"'"'main_land_use'"'"', "main_land_use", '"'"'computed_area_m2'"'"', "computed_area_m2", '"'"'source_srid'"'"', "source_srid")::text FROM (SELECT id, "geom", "commune_code", "former_commune_code", "sheet_number", "parcel_number", "former_sheet_number", "former_parcel_number", "land_use_codes", "land_use_areas_m2", "declared_area_m2", "legal_area_m2", "address", "map_scale", "survey_date", "national_id", "main_land_use", "computed_area_m2", "source_srid" FROM "land"."parcels" WHERE (ST_Intersects("geom", ST_MakeEnvelope($1, $2, $3, $4, 4326))) ORDER BY id LIMIT $5::bigint) AS page ORDER BY id'
FILTER_SQL='SELECT id, ST_AsGeoJSON("geom", 9), json_build_object('"'"'commune_code'"'"', "commune_code", '"'"'former_commune_code'"'"', "former_commune_code", '"'"'sheet_number'"'"', "sheet_number", '"'"'parcel_number'"'"', "parcel_number", '"'"'former_sheet_number'"'"', "former_sheet_number", '"'"'former_parcel_number'"'"', "former_parcel_number", '"'"'land_use_codes'"'"', "land_use_codes", '"'"'land_use_areas_m2'"'"', "land_use_areas_m2", '"'"'declared_area_m2'"'"', "declared_area_m2", '"'"'legal_area_m2'"'"', "legal_area_m2", '"'"'address'"'"', "address", '"'"'map_scale'"'"', "map_scale", '"'"'survey_date'"'"', "survey_date", '"'"'national_id'"'"', "national_id", '"'"'main_land_use'"'"', "main_land_use", '"'"'computed_area_m2'"'"', "computed_area_m2", '"'"'source_srid'"'"', "source_srid")::text FROM (SELECT id, "geom", "commune_code", "former_commune_code", "sheet_number", "parcel_number", "former_sheet_number", "former_parcel_number", "land_use_codes", "land_use_areas_m2", "declared_area_m2", "legal_area_m2", "address", "map_scale", "survey_date", "national_id", "main_land_use", "computed_area_m2", "source_srid" FROM "land"."parcels" WHERE (meta.accenti("address") LIKE $1::text) ORDER BY id LIMIT $2::bigint) AS page ORDER BY id'

echo "uptime: $(uptime)"
PARTS=${PARTS:-bbox address}
if [[ $PARTS == *bbox* ]]; then
# 1. Before: PREPARE and EXECUTE (the sixth run on takes the generic plan); after: the same SQL
#    sent with its values (an unnamed statement, planned for them).
prepared=$( { echo "PREPARE q(float8, float8, float8, float8, bigint) AS $BBOX_SQL;";
  for _ in $(seq $((RUNS + 6))); do echo "EXECUTE q(-180, -90, 180, 90, 101);"; done; } | timed "$PG/gis")
literal=${BBOX_SQL//\$1/-180}; literal=${literal//\$2/-90}; literal=${literal//\$3/180}; literal=${literal//\$4/90}; literal=${literal//\$5/101}
planned=$( { for _ in $(seq $((RUNS + 1))); do echo "$literal;"; done; } | timed "$PG/gis")
echo "world bbox page (limit 100), 1M parcels: prepared (generic plan, before) ${prepared} ms; planned with its values (now) ${planned} ms"
street=${BBOX_SQL//\$1/105.80}; street=${street//\$2/21.00}; street=${street//\$3/105.81}; street=${street//\$4/21.01}; street=${street//\$5/101}
streets=$( { for _ in $(seq $((RUNS + 1))); do echo "$street;"; done; } | timed "$PG/gis")
echo "a street's bbox (0.01 deg), planned with its values (now) ${streets} ms"
fi
[[ $PARTS == *address* ]] || exit 0

# 2.
if [ "$(psql "$PG/postgres" -qAtc "SELECT count(*) FROM pg_database WHERE datname = 'gis_costly'")" = 0 ]; then
  work=$(mktemp -d)
  psql "$PG/postgres" -qc "CREATE DATABASE gis_costly"
  DATABASE_URL="$PG/gis_costly" "$BIN" migrate >/dev/null
  "$BIN" sample-data --parcels 300000 --seed 22 --out "$work/parcels.geojsonl" >/dev/null
  DATABASE_URL="$PG/gis_costly" "$BIN" import land.parcels "$work/parcels.geojsonl" --crs EPSG:5897 >/dev/null
  psql "$PG/gis_costly" -qc "ANALYZE land.parcels"
  rm -rf "$work"
fi
index="CREATE INDEX parcels_address_accenti_trgm_idx ON land.parcels USING gin (meta.accenti(address) public.gin_trgm_ops)"
for with_index in no yes; do
  psql "$PG/gis_costly" -qc "DROP INDEX IF EXISTS land.parcels_address_accenti_trgm_idx"
  [ "$with_index" = yes ] && psql "$PG/gis_costly" -qc "$index; ANALYZE land.parcels"
  for pattern in '%Thon 987654,%' '%Thon 12,%'; do
    sql=${FILTER_SQL//\$1::text/\'$pattern\'::text}; sql=${sql//\$2/11}
    ms=$( { for _ in $(seq $((RUNS + 1))); do echo "$sql;"; done; } | timed "$PG/gis_costly")
    echo "ACCENTI(address) LIKE '$pattern', 300,000 parcels, trigram index $with_index: ${ms} ms"
  done
done
