#!/usr/bin/env bash
# WFS GetFeature vs OGC API items (docs/benchmarks.md, "WFS GetFeature"): the same 100,000
# parcels of the bench database (/work/shared/tools/pg-up.sh: `gis`, 1M parcels in land.parcels,
# migrated), the same bbox and page size, as GML 3.2 from /wfs and as GeoJSON from
# /collections/land.parcels/items; one request at a time, alternating, RUNS of each; the server's
# RSS sampled every 0.1 s during each request (its peak per request is printed: flat memory
# means it does not grow with the page).
#
#   benches/wfs_getfeature.sh /work/bench-bin/geosector-wfs-<commit> [PG_URL] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="$1"
PG="${2:-postgresql://postgres@127.0.0.1:55432/gis}"
RUNS="${3:-5}"
N=100000
PORT=18791
WORK="$(mktemp -d /tmp/wfs-bench.XXXXXX)"
DATABASE_URL="$PG" RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --workers 2 --max-limit "$N" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
# The whole extent: the first 100,000 parcels by id, whatever the bbox code path costs.
read -r X0 Y0 X1 Y1 < <(psql "$PG" -Atc "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM land.parcels) s" | tr '|' ' ')
BASE="http://127.0.0.1:$PORT"
GML="$BASE/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&COUNT=$N&BBOX=$X0,$Y0,$X1,$Y1,urn:ogc:def:crs:OGC:1.3:CRS84"
JSON="$BASE/collections/land.parcels/items?limit=$N&bbox=$X0,$Y0,$X1,$Y1"
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
one() { # label url
  local peak=0 r
  curl -s -o "$WORK/out" -w '%{time_total} %{size_download}\n' "$2" >"$WORK/t" &
  local c=$!
  while kill -0 "$c" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done
  wait "$c"
  read -r t size <"$WORK/t"
  echo "$1 $t $size $peak"
}
echo "uptime: $(uptime)"
echo "RSS at rest: $(rss) kB"
one warm-gml "$GML" >/dev/null; one warm-json "$JSON" >/dev/null
grep -c '<wfs:member>' "$WORK/out" >/dev/null || true
for i in $(seq "$RUNS"); do one gml "$GML"; one geojson "$JSON"; done | tee "$WORK/runs"
awk -v n="$N" '
  { t[$1] = t[$1] " " $2; s[$1] = $3; p[$1] = (p[$1] > $4 ? p[$1] : $4) }
  END {
    for (k in t) {
      m = split(substr(t[k], 2), a, " "); asort(a); med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
      rate[k] = n / med
      printf "%-8s median %.2f s  %.0f features/s  %.1f MB  peak RSS %.0f MB\n", k, med, rate[k], s[k] / 1e6, p[k] / 1024
    }
    printf "GML / GeoJSON rate: %.2f\n", rate["gml"] / rate["geojson"]
  }' "$WORK/runs"
