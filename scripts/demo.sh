#!/usr/bin/env bash
# One command from a fresh Debian 12 machine with Rust to geosector running on the samples:
# starts the private PostGIS cluster (unless DATABASE_URL is set), builds, migrates, loads the
# reference data and every sample in data-samples/, prints what is stored, and runs the server
# on http://127.0.0.1:8080 (GEOSECTOR_BIND to change; GEOSECTOR_DEMO_NO_SERVE=1 to stop after
# loading). The map viewer is at /map.
#
# Reference data: $GEOSECTOR_REFERENCE_DIR, else data-samples/vietnam (all of Vietnam's 2025 units
# and boundaries, and the units before the reform; data-samples/reference holds Hà Nội only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-$(scripts/dev-db.sh start | tail -n 1)}"
echo "database: $DATABASE_URL"

scripts/web.sh   # MapLibre GL JS for the map viewer, embedded by the build
cargo build --quiet --bin geosector
GEOSECTOR=target/debug/geosector

$GEOSECTOR migrate

$GEOSECTOR reference "${GEOSECTOR_REFERENCE_DIR:-data-samples/vietnam}"

S=data-samples
import() { $GEOSECTOR import "$@"; }
import land.parcels              $S/land/parcels_soc_son.fgb --replace
$GEOSECTOR validate land.parcels $S/land/parcels_soc_son.geojson
import land.map_sheets           $S/land/map_sheets_soc_son.geojson --replace
# Synthetic owners, certificates and rights (land_restricted: served only to grants naming them, docs/security.md).
import land.parties              $S/land/parties.csv --replace
import land.certificates         $S/land/certificates.csv --replace
import land.parcel_rights        $S/land/parcel_rights.csv --replace
import minerals.licences         $S/minerals/licences.geojson
import minerals.licence_areas    $S/minerals/licence_areas.geojson --replace
import minerals.prohibited_zones $S/minerals/prohibited_zones.geojson --replace
import water.works               $S/water/works.geojson
import water.permits             $S/water/permits.geojson
import water.stations            $S/water/stations.geojson
import water.river_basins        $S/water/river_basins.geojson
import environment.stations      $S/environment/stations.geojson
import environment.pollution_sources $S/environment/pollution_sources.geojson
import environment.observations  $S/environment/observations --skip-rejected | tail -n 1
import environment.observations  $S/environment/campaign_2026_10.csv | tail -n 1

echo
echo "rows per table:"
PGOPTIONS='-c client_min_messages=warning' psql "$DATABASE_URL" -qAt -F ' ' -c "
  SELECT format('%-40s %s', n.nspname || '.' || c.relname,
                (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname IN ('reference', 'land', 'land_restricted', 'minerals', 'water', 'environment')
  ORDER BY 1"
echo
echo "geosector has loaded the samples into $DATABASE_URL"
if [ -n "${GEOSECTOR_DEMO_NO_SERVE:-}" ]; then
  exit 0
fi
BIND="${GEOSECTOR_BIND:-127.0.0.1:8080}"
echo "serving OGC API - Features on http://$BIND/ and the map viewer on http://$BIND/map (QGIS: add an OGC API - Features connection to it; Ctrl-C stops)"
# The server runs as a login of the least-privilege role geosector_server (migration 0030:
# reads, row writes for edits, audit appends; no DDL, no superuser; docs/deployment.md), not as
# the superuser that migrated and loaded. GEOSECTOR_SERVE_URL overrides (e.g. with a password).
PGOPTIONS='-c client_min_messages=warning' psql "$DATABASE_URL" -qAt -c "
  DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'geosector_web') THEN
      CREATE ROLE geosector_web LOGIN IN ROLE geosector_server;
    END IF;
  END \$\$"
SERVE_URL="${GEOSECTOR_SERVE_URL:-$(printf '%s' "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://)[^@/]*@#\1geosector_web@#')}"
echo "serving as the database role geosector_web (member of geosector_server)"
exec env DATABASE_URL="$SERVE_URL" $GEOSECTOR serve --bind "$BIND"
