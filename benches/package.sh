#!/usr/bin/env bash
# Offline package of a 1M-parcel province (issue 21): the bench database's parcels (one made-up
# province; the area is the bbox of all of them), timed end to end with `/usr/bin/time`:
#
#   1. `geosector package --no-tiles` (the GeoPackage part) and, in the same run,
#      `ogr2ogr -f GPKG out.gpkg PG:… land.parcels` (GDAL's copy of the same table), REPS times each;
#   2. `geosector package` with tiles z0–MAXZOOM (GeoPackage + PMTiles + MBTiles), once.
#
#   benches/package.sh BINARY [URL] [MAXZOOM] [REPS]
#
# URL defaults to the bench cluster (../shared/tools/pg-up.sh). Before each timed command: a
# wait (up to 60 s) for a 1-minute load below 2, then `uptime` into the log.
set -euo pipefail
BIN="$1"; URL="${2:-postgresql://postgres@127.0.0.1:55432/gis}"; MAXZOOM="${3:-16}"; REPS="${4:-3}"
OUT=/tmp/bench/package
rm -rf "$OUT"; mkdir -p "$OUT"
quiet() {
  for _ in $(seq 1 4); do
    awk '{exit !($1 < 2.0)}' /proc/loadavg && break
    sleep 15
  done
  echo "== $1 — $(uptime)"
}
AREA="$(psql "$URL" -Atc "SELECT concat_ws(',', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)) FROM (SELECT ST_Extent(geom)::geometry AS e FROM land.parcels) AS x")"
COUNT="$(psql "$URL" -Atc "SELECT count(*) FROM land.parcels")"
echo "parcels: $COUNT; area: $AREA"
PG="PG:$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(f"host={p.hostname} port={p.port} dbname={p.path[1:]} user={p.username}")' "$URL")"
for r in $(seq 1 "$REPS"); do
  quiet "geosector package --no-tiles (run $r)"
  /usr/bin/time -f "geosector-gpkg seconds %e maxrss_kb %M" "$BIN" --database-url "$URL" package --area "$AREA" \
    --collections land.parcels --no-tiles --made-at 2026-12-01T00:00:00Z --out "$OUT/gpkg-$r"
  ls -l "$OUT/gpkg-$r/package.gpkg"
  quiet "ogr2ogr -f GPKG (run $r)"
  /usr/bin/time -f "ogr2ogr-gpkg seconds %e maxrss_kb %M" ogr2ogr -f GPKG "$OUT/ogr-$r.gpkg" "$PG" land.parcels
  ls -l "$OUT/ogr-$r.gpkg"
done
quiet "geosector package z0-$MAXZOOM"
/usr/bin/time -f "geosector-full seconds %e maxrss_kb %M" "$BIN" --database-url "$URL" package --area "$AREA" \
  --collections land.parcels --max-zoom "$MAXZOOM" --made-at 2026-12-01T00:00:00Z --out "$OUT/full"
ls -l "$OUT/full"
