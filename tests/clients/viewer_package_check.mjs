// The map viewer opening an offline package's tiles.pmtiles from disk, in Debian's headless
// Chromium, reported as one JSON line on stdout:
//
//   node tests/clients/viewer_package_check.mjs BASE_URL PMTILES_FILE
//
// Opens BASE_URL/map, puts the file into the viewer's file input (as a user choosing it), waits
// for the package's layers to be added and the map to settle on its bounds, and reads the
// features MapLibre rendered from the package's layers only (their source and layer names), the
// package's metadata, every request that left BASE_URL (there must be none) and page errors.
//
// Used by crates/geosector/tests/it/package.rs; the caller asserts on the JSON.
import { writeFileSync } from 'node:fs';
import { TIMEOUT, idle, open } from './browser.mjs';

const [base, file] = process.argv.slice(2);
if (!base || !file) {
  console.error('usage: node viewer_package_check.mjs BASE_URL PMTILES_FILE');
  process.exit(2);
}

const { page, result, close } = await open(base);
try {
  await page.goto(base + '/map?lang=en', { waitUntil: 'load', timeout: TIMEOUT });
  await idle(page);
  await page.setInputFiles('#pmtiles-file', file);
  await page.waitForFunction(() => window.geosector.packageReady, null, { timeout: TIMEOUT });
  const opened = await page.evaluate(() => window.geosector.packageReady.then((p) => ({ source: p.source, layers: p.layers, vectorLayers: (p.metadata.vector_layers || []).map((l) => l.id) })), { timeout: TIMEOUT });
  result.package = opened;
  result.view = await idle(page);
  result.rendered = await page.evaluate((layers) => {
    const map = window.geosector.map;
    const features = map.queryRenderedFeatures({ layers });
    const bySource = {};
    const byLayer = {};
    features.forEach((f) => {
      bySource[f.source] = (bySource[f.source] || 0) + 1;
      byLayer[f.sourceLayer] = (byLayer[f.sourceLayer] || 0) + 1;
    });
    return { count: features.length, bySource, byLayer };
  }, opened.layers);
  result.status = await page.locator('#status').innerText();
} finally {
  await close();
}
writeFileSync(1, JSON.stringify(result) + '\n');
