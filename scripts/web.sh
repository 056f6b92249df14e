#!/usr/bin/env bash
# Installs the third-party browser code geosector embeds (MapLibre GL JS) and the browser-test
# driver (playwright-core, pngjs) into web/node_modules with `npm ci`, exactly as web/package-lock.json
# pins them. Idempotent: does nothing when node_modules already matches the lock file. Run it
# before `cargo build` so crates/server/build.rs finds MapLibre to embed (without it the server
# still builds, and /map/assets/* answers 503 naming this script).
#
#   scripts/web.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../web"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (apt)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
fi

STAMP=node_modules/.geosector-lock.sha256
want="$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f node_modules/maplibre-gl/dist/maplibre-gl.js ]; then
  exit 0
fi
echo "installing web/node_modules (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$STAMP"
