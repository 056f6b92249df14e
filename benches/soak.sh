#!/usr/bin/env bash
# Soak: mixed items / single features / bbox / CQL2 / tiles / dataset tiles / time series load
# with 32 connections for 30 minutes against a release server, reporting the errors and the
# server's RSS over time, and whether memory returns to within 10 % of its warm level after the
# load stops (docs/benchmarks.md, "Soak").
#
#   benches/soak.sh [MINUTES] [CONNECTIONS]        # defaults: 30 minutes, 32 connections
#
# Environment: DATABASE_URL (default: the project's cluster of scripts/dev-db.sh; the samples are
# loaded by `GEOSECTOR_DEMO_NO_SERVE=1 scripts/demo.sh` when it has no parcels), BIN (default
# target/release/geosector, built when missing), PORT (8097), OUT (/tmp/geosector-soak), WARMUP_S
# (120).
#
# Phases: a warm-up at the same load (WARMUP_S) fills the caches; after 20 s idle the RSS is the
# warm level. Then the soak, sampling RSS every 10 s into $OUT/rss.tsv (seconds, kB). After the
# load, 30 s idle and the RSS is compared with the warm level. Exit status 1 when a request
# failed (non-2xx/3xx, socket error, timeout) or memory stays more than 10 % above warm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MINUTES="${1:-30}"
CONNS="${2:-32}"
PORT="${PORT:-8097}"
OUT="${OUT:-/tmp/geosector-soak}"
BIN="${BIN:-target/release/geosector}"
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "installing wrk (apt)" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(scripts/dev-db.sh start | tail -n 1)"
  export DATABASE_URL
  if [ "$(psql "$DATABASE_URL" -XAtc "SELECT count(*) FROM land.parcels" 2>/dev/null || echo 0)" = 0 ]; then
    GEOSECTOR_DEMO_NO_SERVE=1 scripts/demo.sh >&2
  fi
fi
if [ ! -x "$BIN" ]; then
  scripts/web.sh
  cargo build --release --quiet --bin geosector
fi

BASE="http://127.0.0.1:$PORT"
"$BIN" --database-url "$DATABASE_URL" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 </dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$BASE/health" && break; sleep 0.2; done
curl -sf -o /dev/null "$BASE/health" || { echo "the server did not start: $OUT/server.log" >&2; exit 1; }

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER/status"; }
python3 benches/soak_paths.py "$BASE" "$OUT/paths.txt"
load() {  # SECONDS
  wrk -t2 -c"$CONNS" -d"$1"s --timeout 10s -s benches/soak.lua "$BASE" -- "$OUT/paths.txt" | grep '^SOAK ' | cut -c6-
}

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg); rss at start: $(rss) kB" >&2
echo "warm-up: ${WARMUP_S:-120} s at $CONNS connections" >&2
WARMUP="$(load "${WARMUP_S:-120}")"
sleep 20
WARM="$(rss)"
echo "warm-up: $WARMUP; warm rss: $WARM kB" >&2

echo "soak: $MINUTES min at $CONNS connections; rss every 10 s in $OUT/rss.tsv" >&2
printf 's\trss_kb\n' >"$OUT/rss.tsv"
START=$(date +%s)
(
  while kill -0 "$SERVER" 2>/dev/null; do
    printf '%s\t%s\n' "$(($(date +%s) - START))" "$(rss)" >>"$OUT/rss.tsv"
    sleep 10
  done
) &
SAMPLER=$!
SOAK="$(load $((MINUTES * 60)))"
kill $SAMPLER 2>/dev/null || true
sleep 30
AFTER="$(rss)"
PEAK="$(tail -n +2 "$OUT/rss.tsv" | cut -f2 | sort -n | tail -n 1)"
ERRLINES="$(grep -c '"level":"ERROR"' "$OUT/server.log" || true)"

python3 - "$SOAK" "$WARM" "$PEAK" "$AFTER" "$ERRLINES" "$MINUTES" "$CONNS" <<'EOF'
import json, sys
soak = json.loads(sys.argv[1])
warm, peak, after, errlines = (int(v) for v in sys.argv[2:6])
errors = sum(soak[k] for k in ("non2xx", "connect_err", "read_err", "write_err", "timeouts"))
ratio = after / warm
print(f"soak {sys.argv[6]} min, {sys.argv[7]} connections: {soak['requests']} requests, "
      f"{soak['rps']:.0f}/s, p50 {soak['p50_ms']:.1f} ms, p99 {soak['p99_ms']:.1f} ms, max {soak['max_ms']:.0f} ms")
print(f"errors: {errors} ({json.dumps({k: soak[k] for k in ('non2xx', 'connect_err', 'read_err', 'write_err', 'timeouts')})}); "
      f"server ERROR log lines: {errlines}")
print(f"rss: warm {warm / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, 30 s after the load {after / 1024:.1f} MiB "
      f"({ratio:.3f} x warm; within 10 %: {'yes' if ratio <= 1.10 else 'NO'})")
sys.exit(0 if errors == 0 and ratio <= 1.10 else 1)
EOF
