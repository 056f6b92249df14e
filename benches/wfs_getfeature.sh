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
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.2
done
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
one warm-gml "$GML" >/dev/null
echo "GML members: $(grep -o '<wfs:member>' "$WORK/out" | wc -l)"
one warm-json "$JSON" >/dev/null
for i in $(seq "$RUNS"); do one gml "$GML"; one geojson "$JSON"; done | tee "$WORK/runs"
median() { awk -v k="$1" '$1 == k {print $2}' "$WORK/runs" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
peak() { awk -v k="$1" '$1 == k && $4 > p {p = $4} END {print p}' "$WORK/runs"; }
size() { awk -v k="$1" '$1 == k {s = $3} END {print s}' "$WORK/runs"; }
G=$(median gml); J=$(median geojson)
for k in gml geojson; do
  awk -v k="$k" -v m="$(median "$k")" -v n="$N" -v s="$(size "$k")" -v p="$(peak "$k")" \
    'BEGIN {printf "%-8s median %.2f s  %.0f features/s  %.1f MB  peak RSS %.0f MB\n", k, m, n / m, s / 1e6, p / 1024}'
done
awk -v g="$G" -v j="$J" 'BEGIN {printf "GML / GeoJSON rate: %.2f\n", j / g}'
