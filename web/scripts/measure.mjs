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

// ---- HRM: time to first solve and time per segment on each backend ----
// The shipped Sudoku model when models/manifest.json lists one; otherwise an untrained model of the
// shipped models' shape (hidden 64, 4 heads, expansion 4, 2+2 layers, 2x2 cycles), served the same way.
const manifestPath = join(web, 'public', 'models', 'manifest.json');
let shipped = null;
try {
  shipped = JSON.parse(readFileSync(manifestPath, 'utf8')).models.find((m) => m.task === 'sudoku') ?? null;
} catch { /* no manifest */ }
const { routeModels, checkpoint, tinyConfig } = await import('../e2e/tiny-models.mjs');
const { createHash } = await import('node:crypto');
let models = null;
let modelId = shipped?.id;
if (!shipped) {
  const cfg = { ...tinyConfig(81, 11), hidden_size: 64, num_heads: 4, expansion: 4, H_layers: 2, L_layers: 2, halt_max_steps: 8 };
  const bytes = await checkpoint(cfg, 7);
  modelId = 'measure-sudoku';
  models = { files: { 'measure-sudoku.safetensors': bytes }, manifest: { models: [{ id: modelId, task: 'sudoku', title: 'untrained, shipped shape', file: 'measure-sudoku.safetensors',
    bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), accuracy: 'untrained (measurement only)', recipe: 'checkpoint_init' }] } };
}
console.log(`HRM model: ${shipped ? `${shipped.id} (shipped)` : 'untrained, the shipped models\' shape (no sudoku model in the manifest yet)'}`);
const SEGMENTS = Number(process.env.SEGMENTS ?? 4);
for (const backend of ['cpu', 'webgpu']) {
  const { page, problems, close } = await openPage(browser, `${server.url}?backend=${backend}&segments=${SEGMENTS}&act=0&sudoku=53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79`,
    undefined, { beforeGoto: models ? (p) => routeModels(p, models) : undefined });
  const t0 = await page.evaluate(() => performance.now());
  await page.waitForFunction(() => document.querySelectorAll('#model-select option').length > 0);
  await page.selectOption('#model-select', modelId);
  await page.click('#model-load');
  await page.waitForFunction(() => /^Loaded /.test(document.querySelector('#ckpt-status').textContent), null, { timeout: 300_000 });
  const loaded = await page.evaluate(() => performance.now());
  await page.click('#hrm-solve-sudoku');
  await page.waitForFunction(() => Number(document.body.dataset.hrmRuns ?? 0) >= 1, null, { timeout: 600_000 });
  const done = await page.evaluate(() => performance.now());
  const ms = await page.evaluate(() => window.hrmTrace().msPerSegment);
  const where = await page.textContent('#hrm-backend');
  if (problems.length) throw new Error(problems.join('\n'));
  const rest = ms.slice(1).sort((a, b) => a - b);
  console.log(`${backend}: ${where.trim()}`);
  console.log(`  page ready → model loaded ${(loaded - t0).toFixed(0)} ms (incl. backend setup); click → ${SEGMENTS} segments shown ${(done - loaded).toFixed(0)} ms;` +
    ` first segment ${ms[0].toFixed(0)} ms, later segments median ${rest.length ? rest[Math.floor(rest.length / 2)].toFixed(0) : '-'} ms (${ms.map((x) => x.toFixed(0)).join(', ')})`);
  await close();
}
await browser.close();
await server.close();
