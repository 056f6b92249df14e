#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with Rust: installs what the tests need
# (PostgreSQL 15 + PostGIS 3 through scripts/dev-db.sh, with its contrib extensions such as
# unaccent; GDAL's ogrinfo/ogr2ogr, PROJ's cs2cs and xmllint from Debian; OWSLib,
# openapi-spec-validator, schemathesis and pyogrio (a GDAL with OGC API - Features Part 2) into
# .geosector/venv, and the ISO 19139 schemas pycsw ships; Debian's QGIS 3.22 (python3-qgis,
# qgis-providers) for the WFS-T test; Debian's chromium and, through
# scripts/web.sh, MapLibre GL JS and playwright-core into web/node_modules for the map viewer test;
# cargo-nextest when missing), starts
# the private PostGIS cluster unless DATABASE_URL is set, and runs every test against it; then
# the bounded fuzz pass (scripts/fuzz.sh ci, which installs its pinned cargo-fuzz).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -E 'test(import)'   # extra arguments go to cargo nextest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-$(scripts/dev-db.sh start | tail -n 1)}"
echo "test database server: $DATABASE_URL" >&2

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Real clients of the OGC API tests.
if ! command -v ogr2ogr >/dev/null 2>&1; then
  echo "installing gdal-bin (apt)" >&2
  apt_install gdal-bin
fi
# PROJ's own answers for the CRS round-trip tests (the same PROJ strings as the server's).
if ! command -v cs2cs >/dev/null 2>&1; then
  echo "installing proj-bin (apt)" >&2
  apt_install proj-bin
fi
VENV=.geosector/venv
if ! "$VENV/bin/python" -c 'import owslib, openapi_spec_validator, pyogrio, openpyxl, pygeoapi, pmtiles, mapbox_vector_tile, schemathesis' >/dev/null 2>&1; then
  echo "installing the Python clients into $VENV" >&2
  if ! python3 -m venv --clear "$VENV" >&2; then
    apt_install python3-venv
    python3 -m venv --clear "$VENV" >&2
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/clients/requirements.txt >&2
fi
# The ISO 19139 schemas (pycsw's APISO profile; files only, so without its dependencies) and
# xmllint, which validates the catalogue's ISO 19139 export against them offline.
if ! "$VENV/bin/python" -c 'import importlib.metadata as m; m.distribution("pycsw")' >/dev/null 2>&1; then
  echo "installing the ISO 19139 schemas (pycsw, files only) into $VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r tests/clients/requirements-schemas.txt >&2
fi
if ! command -v xmllint >/dev/null 2>&1; then
  echo "installing libxml2-utils (apt: xmllint)" >&2
  apt_install libxml2-utils
fi
# haproxy balances two server instances in the replica test (docs/deployment.md).
if ! command -v haproxy >/dev/null 2>&1; then
  echo "installing haproxy (apt)" >&2
  apt_install haproxy
fi
# Debian 12's QGIS 3.22 (its Python bindings and data providers, run headless by the system
# python3) edits through WFS-T in the suite.
if ! /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 || [ ! -e /usr/lib/qgis/plugins/libprovider_wfs.so ]; then
  echo "installing python3-qgis and qgis-providers (apt)" >&2
  apt_install python3-qgis qgis-providers
fi
export GEOSECTOR_PYTHON="$PWD/$VENV/bin/python"

# The map viewer: MapLibre GL JS (embedded by the build, so before any cargo command) and the
# browser test's driver, then Debian's Chromium (never a browser download).
scripts/web.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (apt)" >&2
  apt_install chromium
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest" >&2
  cargo install --locked cargo-nextest
fi

# Every fixture the tests read is in the repository (tests/data, data-samples); they need a real PostGIS always.
cargo nextest run --workspace --no-fail-fast "$@"

# The bounded fuzz pass (docs/testing.md): every fuzz target on its seeds, ~20 s each, with the
# memory limits; on the whole suite only (not when arguments pick tests), unless GEOSECTOR_FUZZ=0.
if [ $# -eq 0 ] && [ "${GEOSECTOR_FUZZ:-1}" != 0 ]; then
  scripts/fuzz.sh ci "${GEOSECTOR_FUZZ_SECONDS:-20}"
fi
