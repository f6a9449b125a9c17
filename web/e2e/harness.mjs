// Shared e2e setup: serve the built page (vite preview over web/dist), launch Debian's Chromium
// through playwright-core with the flags from shared TOOLCHAIN.md (WebGPU on SwiftShader), and
// record every console error, page error and worker error so a test can fail on any of them.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

export const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const shots = join(web, 'test-output');
mkdirSync(shots, { recursive: true });

export const LAUNCH_ARGS = ['--enable-unsafe-webgpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function startServer() {
  const server = await preview({ root: web, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return { url, close: () => new Promise((r) => server.httpServer.close(r)) };
}

export async function startBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: LAUNCH_ARGS });
}

/** A fresh page whose problems are collected in `problems` (console errors, uncaught errors,
 *  worker errors, failed requests). `beforeGoto(page)` runs before navigation (e.g. routes). */
export async function openPage(browser, url, viewport = { width: 1200, height: 1000 }, { beforeGoto } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const watch = (who) => (msg) => {
    if (msg.type() === 'error') problems.push(`${who} console error: ${msg.text()}`);
  };
  page.on('console', watch('page'));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('worker', (w) => w.on('console', watch('worker')));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  if (beforeGoto) await beforeGoto(page);
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  return { page, problems, close: () => context.close() };
}

/** The lifecycle every e2e file shares: one server and one browser for the file, one page per test
 *  whose console errors, page errors and failed requests fail that test. `suite.load(query,
 *  viewport, options)` opens the page (options as `openPage`); `suite.closePage()` ends it early,
 *  with the same check, so a test can open a fresh one; `suite.server.url` is the page's address. */
export function pageSuite() {
  const suite = { server: null, browser: null, open: null };
  before(async () => {
    [suite.server, suite.browser] = await Promise.all([startServer(), startBrowser()]);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  suite.closePage = async () => {
    if (!suite.open) return;
    const { problems, close } = suite.open;
    suite.open = null;
    await close();
    assert.deepEqual(problems, [], 'console errors, page errors or failed requests');
  };
  afterEach(suite.closePage);
  suite.load = async (query = '', viewport, options) => {
    suite.open = await openPage(suite.browser, `${suite.server.url}${query}`, viewport, options);
    return suite.open.page;
  };
  return suite;
}

export const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** The 81 digits the board shows (0 for empty). */
export const boardDigits = (page) =>
  page.$$eval('.sudoku .cell', (cells) => cells.map((c) => Number(c.textContent || 0)));

/** True when `sol` is a complete grid obeying the rules that keeps every given of `puzzle`. */
export function solves(puzzle, sol) {
  if (sol.length !== 81 || sol.some((d) => d < 1 || d > 9)) return false;
  if (puzzle.some((d, i) => d !== 0 && sol[i] !== d)) return false;
  for (let u = 0; u < 9; u++) {
    const rowSet = new Set(); const colSet = new Set(); const boxSet = new Set();
    for (let k = 0; k < 9; k++) {
      rowSet.add(sol[u * 9 + k]);
      colSet.add(sol[k * 9 + u]);
      boxSet.add(sol[(Math.floor(u / 3) * 3 + Math.floor(k / 3)) * 9 + (u % 3) * 3 + (k % 3)]);
    }
    if (rowSet.size !== 9 || colSet.size !== 9 || boxSet.size !== 9) return false;
  }
  return true;
}

/** Dispatches a paste of `text` on the document (as Ctrl-V anywhere on the page would). */
export const paste = (page, text) =>
  page.evaluate((t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
