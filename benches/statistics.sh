#!/usr/bin/env bash
# Land statistics form 03/TKKK for a province of 1M parcels (issue 20): the HTTP request to a
# release `geosector serve` against the SQL floor, interleaved, same run.
#
#   benches/statistics.sh [RUNS]
#   DB=postgresql://postgres@127.0.0.1:55432/gis BIN=/work/bench-bin/geosector-statistics benches/statistics.sh 7
#
# DB: the bench database (../shared/tools/pg-up.sh; land.parcels holds 1M synthetic parcels in
# communes 09000-09287, which are no real 2025 units). The script gives them a synthetic
# province 99 in reference.admin_units (source 'bench-statistics', valid from 2025-07-01;
# nothing else there is touched) so that `unit=99` is a province of 1M parcels, and removes
# them when it ends (they would collide with the real units 09022, 09169, 09187 of a reference
# load).
# BIN: a release build of this branch's `geosector`.
# Each round, in this order: form 03 as JSON over HTTP (curl, time_total), the same as XLSX,
# then the floor: the form's own SQL (read back from the JSON answer's `query`) with the same
# bound values, PREPAREd and EXECUTEd by psql (\timing; a custom plan, as the server's first
# runs of a statement), and the simplest equivalent
# GROUP BY (main purpose × commune, one scan, no history, no mixed-use split). Medians of RUNS
# (first round dropped as warm-up). The load (uptime) is printed before and after.
set -euo pipefail
RUNS="${1:-7}"
DB="${DB:-postgresql://postgres@127.0.0.1:55432/gis}"
BIN="${BIN:-/work/bench-bin/geosector-statistics}"
OUT="${OUT:-/tmp/stats-bench-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

psql "$DB" -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO reference.admin_units (level, code, valid_from, name, unit_type, parent_code, source)
VALUES ('province', '99', '2025-07-01', 'Tỉnh thử nghiệm (bench)', 'tỉnh', NULL, 'bench-statistics')
ON CONFLICT DO NOTHING;
INSERT INTO reference.admin_units (level, code, valid_from, name, unit_type, parent_code, source)
SELECT 'commune', lpad(c::text, 5, '0'), '2025-07-01', 'Xã thử nghiệm ' || c, 'xã', '99', 'bench-statistics'
FROM generate_series(9000, 9287) AS c
ON CONFLICT DO NOTHING;
SQL

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --database-url "$DB" --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; psql "$DB" -q -c "DELETE FROM reference.admin_units WHERE source = '"'"'bench-statistics'"'"'"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
DATE=$(date -u +%Y-%m-%d)
URL="http://127.0.0.1:$PORT/statistics/land/03?unit=99&date=$DATE"
curl -fs "$URL&f=json" >"$OUT/form.json"
python3 - "$OUT/form.json" >"$OUT/floor.sql" <<'PY'
import json, sys
form = json.load(open(sys.argv[1]))
sql = form["query"]["sql"]
instant, communes = form["query"]["parameters"]
array = "{" + ",".join(communes) + "}"
print("\\timing on")
print(f"PREPARE form(timestamptz, text[]) AS {sql};")
print(f"\\set communes '{array}'")
print(f"EXECUTE form('{instant}', :'communes');")
print("SELECT count(*) FROM (SELECT land_use_codes[1], commune_code, "
      "sum(floor(coalesce(legal_area_m2, declared_area_m2, computed_area_m2, 0) * 10 + 0.5) / 10) "
      "FROM land.parcels WHERE commune_code IN (SELECT unnest(:'communes'::text[])) GROUP BY 1, 2) AS g;")
PY
echo "parcels in the form: $(python3 -c "import json,sys; f=json.load(open('$OUT/form.json')); print(round(f['rows'][0]['values'][0], 2), 'ha,', len(f['columns']) - 2, 'communes')")"
echo "load before: $(uptime)"
: >"$OUT/http_json"; : >"$OUT/http_xlsx"; : >"$OUT/sql_form"; : >"$OUT/sql_groupby"
for round in $(seq 0 "$RUNS"); do
  j=$(curl -fs -o /dev/null -w '%{time_total}' "$URL&f=json")
  x=$(curl -fs -o /dev/null -w '%{time_total}' "$URL&f=xlsx")
  times=$(psql "$DB" -q -f "$OUT/floor.sql" 2>&1 | grep -E '^Time:' | awk '{print $2 / 1000}')
  s=$(echo "$times" | sed -n 2p); g=$(echo "$times" | sed -n 3p)
  echo "round $round: http json ${j}s, http xlsx ${x}s, sql form ${s}s, sql group-by ${g}s"
  if [ "$round" -gt 0 ]; then
    echo "$j" >>"$OUT/http_json"; echo "$x" >>"$OUT/http_xlsx"; echo "$s" >>"$OUT/sql_form"; echo "$g" >>"$OUT/sql_groupby"
  fi
done
echo "load after: $(uptime)"
median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo "medians over $RUNS rounds: http json $(median "$OUT/http_json") s, http xlsx $(median "$OUT/http_xlsx") s, sql form $(median "$OUT/sql_form") s, sql group-by $(median "$OUT/sql_groupby") s"
echo "files in $OUT"
