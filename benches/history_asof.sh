#!/usr/bin/env bash
# "As of" items page vs the current-state page, same run (issue 19 benchmarks).
#
#   benches/history_asof.sh BASE PID INSTANT [ROUNDS] [DURATION]
#   benches/history_asof.sh http://127.0.0.1:8095 12345 2026-12-06T13:40:00Z 3 15
#
# BASE: a geosector serving the churned bench database (benches/history_churn.sql);
# PID: its process (CPU accounting); INSTANT: a datetime in the middle of the churn (e.g.
# the time of the median changeset: SELECT at FROM hbench.changesets ORDER BY seq OFFSET
# (SELECT count(*)/2 FROM hbench.changesets) LIMIT 1).
# Each round runs ../shared/tools/peer-bench.sh --only items twice, current then as-of
# (reversed every other round), over the 480 z14 bboxes of public.bench_tiles
# (`limit=100&bbox={bbox}` and the same with `&datetime=INSTANT`), 32 connections, 1 wrk
# thread, 5 s warm-up. Before each run: the load, after a wait (up to QUIET_WAIT s, default
# 120) for a 1-minute load below QUIET_LOAD (default 1.5). DATABASE_URL names the database
# with public.bench_tiles.
set -euo pipefail
BASE="$1"; PID="$2"; INSTANT="$3"; ROUNDS="${4:-3}"; DURATION="${5:-15}"
T="$(cd "$(dirname "$0")/../.." && pwd)/shared/tools"
[ -x "$T/peer-bench.sh" ] || T=/work/shared/tools
OUT="${OUT:-/tmp/hbench-asof-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
CUR="current|-|$BASE/collections/land.parcels/items?limit=100&bbox={bbox}|$PID"
ASOF="asof|-|$BASE/collections/land.parcels/items?limit=100&bbox={bbox}&datetime=$INSTANT|$PID"
QUIET_WAIT="${QUIET_WAIT:-120}"; QUIET_LOAD="${QUIET_LOAD:-1.5}"
quiet() {
  local waited=0
  while [ "$waited" -lt "$QUIET_WAIT" ]; do
    awk -v q="$QUIET_LOAD" '{exit !($1 < q)}' /proc/loadavg && break
    sleep 15; waited=$((waited + 15))
  done
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order=("$CUR" "$ASOF"); else order=("$ASOF" "$CUR"); fi
  for t in "${order[@]}"; do
    quiet
    name="${t%%|*}"
    echo "round $r $name start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/log"
    OUT="$OUT/r$r-$name" "$T/peer-bench.sh" --only items --no-floor --duration "$DURATION" \
      --dsn "${DATABASE_URL:-postgresql://postgres@127.0.0.1:55432/gis}" --target "$t" 2>&1 | tee -a "$OUT/log" | grep -E '^\| items' || true
  done
done
echo "raw: $OUT"
