// The map viewer's lookup in Debian's headless Chromium, reported as one JSON line on stdout:
//
//   node tests/clients/viewer_lookup_check.mjs BASE_URL MAP_PATH SECOND_LOOKUP_JSON
//
// - opens BASE_URL + MAP_PATH, a shared lookup URL (/map?lookup=<collection>&commune=…&…),
//   waits for the map to settle on what was found, and reads the page URL, the map view, the
//   result list and the popup (the record's rows and any related features, e.g. owners);
// - then types SECOND_LOOKUP_JSON ({"commune": "…", "<key field>": "…"}) into the lookup form,
//   submits it, and reads the popup and the page URL again;
// - lists every request that left BASE_URL (there must be none) and every page error.
//
// Used by crates/geosector/tests/it/admin_units.rs; the caller asserts on the JSON.
import { writeFileSync } from 'node:fs';
import { TIMEOUT, idle, open } from './browser.mjs';

const [base, mapPath, second] = process.argv.slice(2);
if (!base || !mapPath || !second) {
  console.error('usage: node viewer_lookup_check.mjs BASE_URL MAP_PATH SECOND_LOOKUP_JSON');
  process.exit(2);
}

async function popup(page, notId) {
  const selector = notId ? `.popup[data-source="lookup"]:not([data-id="${notId}"])` : '.popup[data-source="lookup"]';
  const box = page.locator(selector);
  await box.waitFor({ timeout: TIMEOUT });
  // Related features arrive after the record: give them a moment to land.
  await page.waitForTimeout(500);
  return {
    id: await box.getAttribute('data-id'),
    collection: await box.getAttribute('data-collection'),
    rows: await box.locator(':scope > table tr').evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent]))),
    related: await box.locator('[data-relation]').evaluateAll((sections) => sections.map((s) => ({ relation: s.getAttribute('data-relation'), text: s.innerText }))),
  };
}

const { page, result, close } = await open(base);
try {
  await page.goto(base + mapPath, { waitUntil: 'load', timeout: TIMEOUT });
  result.layerList = await page.$$eval('input[data-collection]', (boxes) => boxes.map((b) => b.getAttribute('data-collection')));
  result.view = await idle(page);
  result.first = await popup(page);
  result.first.url = await page.evaluate(() => window.location.href);
  result.first.results = await page.locator('#lookup-results li').count();
  result.status = await page.locator('#status').innerText();

  const values = JSON.parse(second);
  for (const [name, value] of Object.entries(values)) {
    await page.locator(`#lookup-fields input[name="${name}"]`).fill(value);
  }
  await page.locator('#lookup-form button[type="submit"]').click();
  result.second = await popup(page, result.first.id);
  result.second.url = await page.evaluate(() => window.location.href);
  result.second.view = await idle(page);
} finally {
  await close();
}
writeFileSync(1, JSON.stringify(result) + '\n');
