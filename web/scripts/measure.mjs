// `npm --prefix web run measure` (after `npm run wasm && npm run build`): prints the figures the
// README quotes — the wasm size (raw and gzip), the time from navigation to a ready page (worker
// started, wasm instantiated, WebGPU adapter requested, first maze generated), and the exact
// solver's time on the typed reference puzzle — measured in headless Chromium.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openPage, startBrowser, startServer, web } from '../e2e/harness.mjs';

const assets = join(web, 'dist', 'assets');
const wasmFile = readdirSync(assets).find((f) => f.endsWith('.wasm'));
if (!wasmFile) throw new Error('no .wasm in web/dist/assets: run `npm run wasm && npm run build` first');
const wasm = readFileSync(join(assets, wasmFile));
console.log(`wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} bytes gzip -9`);

const server = await startServer();
const browser = await startBrowser();
const runs = [];
for (let k = 0; k < 3; k++) {
  const { page, problems, close } = await openPage(browser, `${server.url}?sudoku=53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79`);
  const ready = await page.evaluate(() => performance.now());
  await page.click('#sudoku-solve');
  await page.waitForFunction(() => /Exact solver/.test(document.querySelector('#sudoku-status').textContent));
  const solved = await page.evaluate(() => performance.now());
  const status = await page.textContent('#sudoku-status');
  runs.push({ ready, click: solved - ready, status });
  if (problems.length) throw new Error(problems.join('\n'));
  await close();
}
for (const r of runs) console.log(`page ready after ${r.ready.toFixed(0)} ms; click → exact solution shown in ${r.click.toFixed(0)} ms; ${r.status}`);
console.log('HRM time to first solve and time per segment: no model is wired into the wasm build yet.');
await browser.close();
await server.close();
