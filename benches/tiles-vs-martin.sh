#!/usr/bin/env bash
# Tiles benchmark against Martin, one run (see docs/benchmarks.md for the setup and results).
# Needs: the bench database of ../shared/tools (pg-up.sh, gen-parcels.py -n 1000000) with our
# schema migrated and land.parcels filled from public.parcels; Martin 1.14.0 in /tmp/bench/martin;
# wrk; geosector built with --release.
#
#   benches/tiles-vs-martin.sh [ROUNDS]
#
# Starts our server twice — :8080 with its tile cache, :8082 with `tile_cache_mb = 0` (every
# tile rendered: "cold") — and Martin cached (:3000) and uncached (:3001), then runs
# ../shared/tools/peer-bench.sh --only tiles with 2 wrk threads, ROUNDS times (default 3), after
# requesting every bench tile once from both cached servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
T=../shared/tools
B="${DATABASE_URL:-postgresql://postgres@127.0.0.1:55432/gis}"
ROUNDS="${1:-3}"
BIN=target/release/geosector
[ -x "$BIN" ] || { echo "build first: cargo build --release -p geosector" >&2; exit 1; }
RUN=/tmp/bench/run; mkdir -p "$RUN"
printf 'tile_cache_mb = 0\n' > "$RUN/ours-nocache.toml"
start_ours() {  # PORT [CONFIG]
  local port="$1"; shift
  pkill -f "geosector.*--bind 127.0.0.1:$port" 2>/dev/null || true
  sleep 0.5
  setsid "$BIN" --database-url "$B" serve --bind "127.0.0.1:$port" --workers 2 "$@" > "$RUN/ours-$port.log" 2>&1 < /dev/null &
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0; sleep 0.2; done
  echo "our server on :$port did not start: $RUN/ours-$port.log" >&2; exit 1
}
start_ours 8080
start_ours 8082 --config "$RUN/ours-nocache.toml"
DATABASE_URL="$B" $T/run-peers.sh start martin martin-nocache
pid() { pgrep -f "geosector.*--bind 127.0.0.1:$1" | head -1; }
# "Cached" means warm caches on both sides: request every bench tile once from each cached server
# (ours through `geosector tiles seed` would need a bbox; the exact tile list is fairer).
echo "warming the caches (480 tiles each)" >&2
psql -X -At -F ' ' -d "$B" -c "SELECT z, x, y FROM public.bench_tiles ORDER BY n" | while read -r z x y; do
  curl -s -o /dev/null "http://127.0.0.1:8080/collections/land.parcels/tiles/WebMercatorQuad/$z/$y/$x"
  curl -s -o /dev/null "http://127.0.0.1:3000/parcels/$z/$x/$y"
done
TILES='/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}'
for r in $(seq "$ROUNDS"); do
  echo "== round $r" >&2
  $T/peer-bench.sh --only tiles --duration 15 --threads 2 --out "/tmp/bench/results/tiles-round-$r" \
    --ours "http://127.0.0.1:8080$TILES|-|$(pid 8080)" \
    --target "ours-cold|http://127.0.0.1:8082$TILES|-|$(pid 8082)" \
    --target "martin|http://127.0.0.1:3000/parcels/{z}/{x}/{y}|-|$(pgrep -f 'martin.*3000' | head -1)" \
    --target "martin-nocache|http://127.0.0.1:3001/parcels/{z}/{x}/{y}|-|$(pgrep -f 'martin.*3001' | head -1)"
done
