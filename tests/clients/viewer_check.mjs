// Drives geosector's map viewer in Debian's headless Chromium (playwright-core, never a
// downloaded browser) and reports what a person would see, as one JSON line on stdout:
//
//   node tests/clients/viewer_check.mjs BASE_URL MAP_PATH SCREENSHOT.png
//
// - opens BASE_URL + MAP_PATH (e.g. /map?lang=en#16/21.24/105.85), waits until the map has
//   loaded its style and every tile, and screenshots the map;
// - counts the screenshot's pixels in each land-use colour of the land style's parcel fill
//   (read from BASE_URL/styles/land, so the check follows the style);
// - clicks inside a parcel and reads the popup once it holds the full record;
// - hides parcels through the layer list and checks the layer went invisible;
// - lists every request that left BASE_URL (there must be none) and every page error.
//
// Used by the integration test crates/geosector/tests/it/viewer.rs; web/node_modules comes from
// scripts/web.sh. The caller asserts on the JSON; this script fails only when it cannot run.
import { writeFileSync } from 'node:fs';
import { TIMEOUT, idle, open, require } from './browser.mjs';

const { PNG } = require('pngjs');

const [base, mapPath, screenshotPath] = process.argv.slice(2);
if (!base || !mapPath || !screenshotPath) {
  console.error('usage: node viewer_check.mjs BASE_URL MAP_PATH SCREENSHOT.png');
  process.exit(2);
}
// The parcel fill's land-use colours: ["match", ["get", "main_land_use"], code, colour, ..., fallback].
const style = await (await fetch(`${base}/styles/land`)).json();
const fill = style.layers.find((l) => l.id === 'land.parcels-fill');
const match = fill.paint['fill-color'];
const colours = {};
for (let i = 2; i + 1 < match.length; i += 2) {
  const hex = match[i + 1];
  colours[match[i]] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
}

const { page, result, close } = await open(base);
try {
  await page.goto(base + mapPath, { waitUntil: 'load', timeout: TIMEOUT });
  result.layerList = await page.$$eval('input[data-collection]', (boxes) =>
    boxes.map((b) => ({ id: b.getAttribute('data-collection'), text: b.parentElement.textContent.trim() })));
  result.htmlLang = await page.getAttribute('html', 'lang');
  result.view = await idle(page);

  const mapBox = await page.locator('#map').boundingBox();
  const png = PNG.sync.read(await page.locator('#map').screenshot({ path: screenshotPath }));
  // Pixels per land-use colour (±2 per channel for rounding); and a point deep inside a parcel.
  const counts = {};
  const near = (data, at, rgb) => Math.abs(data[at] - rgb[0]) <= 2 && Math.abs(data[at + 1] - rgb[1]) <= 2 && Math.abs(data[at + 2] - rgb[2]) <= 2;
  const codeAt = (x, y) => {
    const at = (y * png.width + x) * 4;
    return Object.keys(colours).find((code) => near(png.data, at, colours[code]));
  };
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const code = codeAt(x, y);
      if (code) { counts[code] = (counts[code] || 0) + 1; }
    }
  }
  result.counts = counts;
  result.size = [png.width, png.height];

  // Click the centre of the first 15×15 block of one colour, scanning from the middle outwards.
  let target = null;
  const cx = Math.floor(png.width / 2), cy = Math.floor(png.height / 2);
  for (let r = 0; r < Math.min(cx, cy) - 8 && !target; r += 4) {
    for (let dy = -r; dy <= r && !target; dy += 4) {
      for (const dx of [-r, r]) {
        const x = cx + dx, y = cy + dy;
        const code = codeAt(x, y);
        if (!code) { continue; }
        let uniform = true;
        for (let j = -7; j <= 7 && uniform; j++) {
          for (let i = -7; i <= 7 && uniform; i++) { uniform = codeAt(x + i, y + j) === code; }
        }
        if (uniform) { target = { x, y, code }; break; }
      }
    }
  }
  result.clicked = target;
  if (target) {
    await page.mouse.click(mapBox.x + target.x, mapBox.y + target.y);
    const popup = page.locator('.popup[data-source="item"]');
    await popup.waitFor({ timeout: TIMEOUT });
    result.popup = {
      collection: await popup.getAttribute('data-collection'),
      text: await popup.innerText(),
      rows: await popup.locator('tr').evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent]))),
    };
  }

  // Parcel numbers are drawn from zoom 17.
  result.parcelNumberLabels = await page.$$eval('#labels span', (spans) => spans.length);

  // The layer list hides a collection.
  await page.locator('input[data-collection="land.parcels"]').uncheck();
  result.parcelsVisibilityAfterUncheck = await page.evaluate(() => window.geosector.map.getLayoutProperty('land.parcels-fill', 'visibility'));
} finally {
  await close();
}
writeFileSync(1, JSON.stringify(result) + '\n');
