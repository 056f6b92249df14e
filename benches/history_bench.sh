#!/usr/bin/env bash
# Sequential write and lineage latencies on the churned bench (issue 19 benchmarks): ROUNDS
# rounds of 500 PATCHes, 500 PATCHes with If-Match, 200 POSTs, 200 lineage walks from the
# chain's last descendant and 200 from its root, one keep-alive connection
# (benches/history_writes.py). Before each test: a wait (up to 60 s) for a 1-minute load below
# 2, then `uptime` into the log.
#
#   benches/history_bench.sh BASE KEY IDS_PATCH IDS_IF_MATCH TIP ROOT [ROUNDS] [OUT]
#
# IDS_*: files of live parcel ids, one a line; TIP, ROOT: the 10-generation chain's last child
# and first parent (SELECT children[1] FROM hbench.chain WHERE generation = 10, and parents[1]
# of generation 1). POSTs use bench_squares with offsets 1000, 1200, ... (new keys each round).
set -euo pipefail
BASE="$1"; KEY="$2"; IDS="$3"; IDS_IM="$4"; TIP="$5"; ROOT="$6"; ROUNDS="${7:-3}"
OUT="${8:-/tmp/hbench-writes-$(date +%Y%m%d-%H%M%S).jsonl}"
W="$(cd "$(dirname "$0")" && pwd)/history_writes.py"
quiet() {
  for _ in $(seq 1 4); do
    awk '{exit !($1 < 2.0)}' /proc/loadavg && break
    sleep 15
  done
  echo "{\"round\": $1, \"next\": \"$2\", \"utc\": \"$(date -u +%H:%M:%S)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$OUT"
}
for r in $(seq 1 "$ROUNDS"); do
  quiet "$r" patch;          python3 "$W" --base "$BASE" --key "$KEY" patch --ids "$IDS" -n 500 --tag "r$r" | tee -a "$OUT"
  quiet "$r" patch-if-match; python3 "$W" --base "$BASE" --key "$KEY" patch-if-match --ids "$IDS_IM" -n 500 --features 100 | tee -a "$OUT"
  quiet "$r" post;           python3 "$W" --base "$BASE" --key "$KEY" post -n 200 --offset $((1000 + 200 * (r - 1))) | tee -a "$OUT"
  quiet "$r" lineage-tip;    python3 "$W" --base "$BASE" --key "$KEY" lineage --id "$TIP" -n 200 | tee -a "$OUT"
  quiet "$r" lineage-root;   python3 "$W" --base "$BASE" --key "$KEY" lineage --id "$ROOT" -n 200 | tee -a "$OUT"
done
echo "results: $OUT"
