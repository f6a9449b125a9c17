// End-to-end tests of the built page in headless Chromium. Run by `npm run e2e` (after the wasm and
// vite builds). Every test fails on any console error, page error or failed request.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { boardDigits, pageSuite, paste, shot, solves, web } from './harness.mjs';

// A puzzle to type (the input; its solution is computed by the page and checked by `solves`).
const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

const suite = pageSuite();
const load = (query = '', viewport) => suite.load(query, viewport);

test('the page loads, reports the backends and says which model to load first', async () => {
  const page = await load();
  const backend = await page.textContent('#backend-status');
  // Headless Chromium with --enable-unsafe-webgpu offers SwiftShader, a software fallback.
  assert.match(backend, /WebGPU adapter .*software fallback: the CPU \(wasm\) path is usually faster/);
  assert.match(await page.textContent('#version'), /^hrm \d+\.\d+\.\d+ · wasm$/);
  await page.click('#hrm-solve-sudoku');
  await page.waitForFunction(() => /No sudoku model is loaded/.test(document.querySelector('#hrm-error').textContent));
  assert.equal(await page.$$eval('#trace .tcell', (c) => c.length), 0, 'no invented trace is shown');
  // Training in the tab is wired (e2e/train.test.mjs exercises it): its Start button is offered.
  await page.waitForSelector('.train-start:not([disabled])');
  await shot(page, '01-loaded');
});

test('type a Sudoku, see conflicts as you type, and get the exact solution', async () => {
  const page = await load();
  await page.click('#sudoku-cell-0');
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < 9; c++) {
      const ch = PUZZLE[r * 9 + c];
      if (ch !== '.') await page.keyboard.press(ch);
      if (c < 8) await page.keyboard.press('ArrowRight');
    }
    if (r < 8) {
      await page.keyboard.press('ArrowDown');
      for (let c = 0; c < 8; c++) await page.keyboard.press('ArrowLeft');
    }
  }
  const puzzle = [...PUZZLE].map((ch) => (ch === '.' ? 0 : Number(ch)));
  assert.deepEqual(await boardDigits(page), puzzle);
  assert.ok(page.url().includes(`sudoku=${PUZZLE}`), 'the puzzle is in the URL');
  // A conflicting digit: another 5 in row 1 (cell r1c3).
  await page.click('#sudoku-cell-2');
  await page.keyboard.press('5');
  assert.deepEqual(await page.$$eval('.sudoku .cell.conflict', (c) => c.map((e) => e.id)), ['sudoku-cell-0', 'sudoku-cell-2']);
  await shot(page, '02-sudoku-conflict');
  await page.keyboard.press('Backspace');
  assert.equal(await page.$$eval('.sudoku .cell.conflict', (c) => c.length), 0);
  await page.click('#sudoku-solve');
  await page.waitForFunction(() => /Exact solver/.test(document.querySelector('#sudoku-status').textContent));
  assert.match(await page.textContent('#sudoku-status'), /the unique solution in (under 0\.1 ms|\d+(\.\d)? ms)/);
  const shown = await boardDigits(page);
  assert.ok(solves(puzzle, shown), `the board shows a valid solution: ${shown.join('')}`);
  await shot(page, '03-sudoku-solved');
});

test('generate a Sudoku by difficulty, then solve it exactly', async () => {
  const page = await load();
  await page.selectOption('#difficulty', 'easy');
  assert.match(page.url(), /difficulty=easy/);
  await page.click('#sudoku-generate');
  await page.waitForFunction(() => /Generated a puzzle \(easy\)/.test(document.querySelector('#sudoku-status').textContent));
  const puzzle = await boardDigits(page);
  const givens = puzzle.filter((d) => d !== 0).length;
  assert.match(await page.textContent('#sudoku-status'), new RegExp(`with ${givens} givens`));
  assert.ok(givens >= 17 && givens < 81, `${givens} givens`);
  await page.click('#sudoku-solve');
  await page.waitForFunction(() => /Exact solver/.test(document.querySelector('#sudoku-status').textContent));
  assert.match(await page.textContent('#sudoku-status'), /the unique solution/);
  assert.ok(solves(puzzle, await boardDigits(page)));
});

test('an invalid paste gives a clear message and breaks nothing; a valid paste and ?sudoku= load', async () => {
  const page = await load();
  const before = await boardDigits(page);
  await paste(page, '12345 not a sudoku');
  await page.waitForFunction(() => document.querySelector('#sudoku-error').textContent.length > 0);
  const msg = await page.textContent('#sudoku-error');
  assert.match(msg, /^The paste is not a Sudoku: /);
  assert.match(msg, /bad character|81 cells/);
  assert.deepEqual(await boardDigits(page), before, 'the board is unchanged');
  await shot(page, '04-invalid-paste');
  await paste(page, `${PUZZLE.slice(0, 80)}`);
  await page.waitForFunction(() => /81 cells, found 80/.test(document.querySelector('#sudoku-error').textContent));
  // the page still works: a valid paste (with grid decoration) loads
  const pretty = PUZZLE.match(/.{9}/g).map((row) => row.match(/.{3}/g).join('|')).join('\n');
  await paste(page, pretty);
  await page.waitForFunction(() => /Loaded from the paste/.test(document.querySelector('#sudoku-status').textContent));
  assert.equal(await page.textContent('#sudoku-error'), '');
  assert.deepEqual(await boardDigits(page), [...PUZZLE].map((ch) => (ch === '.' ? 0 : Number(ch))));
  await suite.closePage();
  const p2 = await load(`?sudoku=${PUZZLE.replaceAll('.', '0')}`);
  assert.deepEqual(await boardDigits(p2), [...PUZZLE].map((ch) => (ch === '.' ? 0 : Number(ch))));
});

test('draw a maze whose goal is unreachable: a clear message; drag S; the BFS path comes back', async () => {
  const page = await load();
  await page.fill('#maze-size', '8');
  await page.press('#maze-size', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.maze .mcell').length === 64);
  await page.waitForFunction(() => /Shortest path \(BFS\): 14 moves/.test(document.querySelector('#maze-status').textContent));
  const cell = async (r, c) => {
    const box = await page.locator(`#maze-cell-${r * 8 + c}`).boundingBox();
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  };
  // Drag a wall along row 6 (cells r7c1..r7c8 in 1-based terms) and one above G's column: G at r8c8
  // is then cut off from S at r1c1.
  const a = await cell(6, 0);
  const b = await cell(6, 7);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 12 });
  await page.mouse.up();
  assert.equal(await page.$$eval('.maze .mcell.wall', (c) => c.length), 8);
  await page.waitForFunction(() => document.querySelector('#maze-error').textContent.length > 0);
  assert.equal(await page.textContent('#maze-error'), 'No path: the goal cannot be reached from the start');
  assert.equal(await page.$$eval('.maze .mcell.path', (c) => c.length), 0);
  await shot(page, '05-maze-unreachable');
  // Drag S below the wall: reachable again, path drawn.
  const s = await cell(0, 0);
  const t = await cell(7, 0);
  await page.mouse.move(s.x, s.y);
  await page.mouse.down();
  await page.mouse.move(t.x, t.y, { steps: 10 });
  await page.mouse.up();
  assert.equal(await page.getAttribute('#maze-cell-56', 'class').then((c) => c.includes('start')), true);
  await page.waitForFunction(() => /Shortest path \(BFS\): 7 moves/.test(document.querySelector('#maze-status').textContent));
  assert.equal(await page.textContent('#maze-error'), '');
  assert.equal(await page.$$eval('.maze .mcell.path', (c) => c.length), 6);
});

test('the maze is keyboard-operable: arrows, Space for a wall, G to move the goal', async () => {
  const page = await load();
  await page.fill('#maze-size', '8');
  await page.press('#maze-size', 'Enter');
  await page.waitForFunction(() => /Shortest path \(BFS\): 14 moves/.test(document.querySelector('#maze-status').textContent));
  await page.focus('.maze');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Space');
  assert.ok((await page.getAttribute('#maze-cell-1', 'class')).includes('wall'));
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('g');
  assert.ok((await page.getAttribute('#maze-cell-9', 'class')).includes('goal'));
  await page.waitForFunction(() => /Shortest path \(BFS\): 2 moves/.test(document.querySelector('#maze-status').textContent));
  await shot(page, '06a-maze-keyboard');
});

test('generate a maze with a minimum path length and show its BFS path', async () => {
  const page = await load();
  await page.fill('#maze-size', '14');
  await page.press('#maze-size', 'Enter');
  await page.fill('#maze-minpath', '30');
  await page.press('#maze-minpath', 'Enter');
  await page.click('#maze-generate');
  await page.waitForFunction(() => document.querySelectorAll('.maze .mcell').length === 196 && document.querySelectorAll('.maze .mcell.wall').length > 0);
  await page.waitForFunction(() => /Shortest path \(BFS\)/.test(document.querySelector('#maze-status').textContent));
  const moves = Number((await page.textContent('#maze-status')).match(/(\d+) moves/)[1]);
  assert.ok(moves >= 30, `shortest path ${moves} ≥ 30`);
  const path = await page.$$eval('.maze .mcell.path', (c) => c.map((e) => Number(e.dataset.i)));
  assert.equal(path.length, moves - 1, 'the drawn path has one cell per move between S and G');
  // the drawn path is connected: every path cell has a 4-neighbour on the path or at S/G
  const ends = await page.$$eval('.maze .mcell.start, .maze .mcell.goal', (c) => c.map((e) => Number(e.dataset.i)));
  const on = new Set([...path, ...ends]);
  for (const i of path) {
    const nb = [i - 14, i + 14, i % 14 ? i - 1 : -1, i % 14 !== 13 ? i + 1 : -1].filter((j) => on.has(j));
    assert.equal(nb.length, 2, `path cell ${i} has two path neighbours`);
  }
  assert.match(page.url(), /maze=[.xsg]{196}/);
  await shot(page, '06-maze-generated');
  // the maze is in the URL: opening the link shows the same maze and path
  const walls = await page.$$eval('.maze .mcell', (c) => c.map((e) => e.className.includes('wall')));
  const link = page.url();
  await suite.closePage();
  const p2 = await load(link.slice(suite.server.url.length));
  assert.deepEqual(await p2.$$eval('.maze .mcell', (c) => c.map((e) => e.className.includes('wall'))), walls);
  await p2.waitForFunction((m) => document.querySelector('#maze-status').textContent.includes(`${m} moves`), moves);
});

test('load a checkpoint: the parity weights are read and checked; wrong files get clear messages', async () => {
  const page = await load();
  const dir = join(web, '..', 'tests', 'fixtures', 'parity', 'visible');
  const weights = readFileSync(join(dir, 'weights.safetensors'));
  const config = readFileSync(join(dir, 'config.json'));
  const input = page.locator('#ckpt-file');
  await input.setInputFiles([
    { name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: weights },
    { name: 'config.json', mimeType: 'application/json', buffer: config },
  ]);
  // the parity weights are Sudoku-shaped, so the page also loads them to run
  await page.waitForFunction(() => /^Read weights\.safetensors: .* Loaded it to run: a Sudoku model/.test(document.querySelector('#ckpt-status').textContent));
  assert.match(await page.textContent('#ckpt-status'), /trainable parameters in 23 tensors/);
  assert.match(await page.textContent('#ckpt-summary'), /tensors \(23\)/);
  await shot(page, '08-checkpoint-read');
  // truncated bytes: the reader's message, not a crash
  await input.setInputFiles([{ name: 'half.safetensors', mimeType: 'application/octet-stream', buffer: weights.subarray(0, weights.length / 2) }]);
  await page.waitForFunction(() => document.querySelector('#ckpt-error').textContent.startsWith('Not loaded: '));
  assert.equal(await page.textContent('#ckpt-status'), '');
  // not a checkpoint at all
  await input.setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') }]);
  await page.waitForFunction(() => /notes\.txt: not a checkpoint file/.test(document.querySelector('#ckpt-error').textContent));
  // a config that does not fit the weights
  const cfg = JSON.parse(config.toString());
  cfg.hidden_size *= 2;
  await input.setInputFiles([
    { name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: weights },
    { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(cfg)) },
  ]);
  await page.waitForFunction(() => /shape/.test(document.querySelector('#ckpt-error').textContent));
  await shot(page, '09-checkpoint-wrong-config');
});

test('phone width: one column, no horizontal scrolling', async () => {
  const page = await load('', { width: 390, height: 844 });
  await shot(page, '07-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
});
