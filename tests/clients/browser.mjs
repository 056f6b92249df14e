// Debian's headless Chromium driven by playwright-core (never a downloaded browser), for the
// viewer checks: a fresh profile, WebGL through SwiftShader (no GPU), and a record of every
// request that leaves the server under test, every page error and every console error.
//
//   const session = await open(base);   // session.page, session.result, session.close()
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

export const TIMEOUT = 90_000;

export async function open(base) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'geosector-chromium-'));
  // A fresh profile (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // WebGL without a GPU: SwiftShader.
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    ],
  });
  const result = { external: [], pageErrors: [], console: [] };
  const page = browser.pages()[0] || await browser.newPage();
  const origin = new URL(base).origin;
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) {
      result.external.push(url);
    }
  });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') { result.console.push(m.text()); } });
  const close = async () => {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { page, result, close };
}

// Resolves when the viewer's map is ready and idle: its zoom and centre.
export function idle(page) {
  return page.evaluate(() => window.geosector.ready.then((map) => new Promise((resolve) => {
    const done = () => resolve({ zoom: map.getZoom(), center: map.getCenter().toArray() });
    if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) { done(); } else { map.once('idle', done); }
  })), { timeout: TIMEOUT });
}
