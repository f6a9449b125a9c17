// End-to-end tests of training in the tab (headless Chromium, the built page): train a tiny model
// for a few steps and see the plots move, pause, reload and see training resume from its
// checkpoint (the step count continues), a hidden tab pauses, hand the model to the solver, export
// the weights, reset (which asks first). Any console error fails. Screenshots: web/test-output/train-*.png.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { pageSuite, shots } from './harness.mjs';

const suite = pageSuite();
const load = async (query = '') => {
  const page = await suite.load(query);
  await page.waitForSelector('.train-task option[value=reverse]', { state: 'attached' });
  return page;
};

// The training section only (the page above it has its own screenshots in page.test.mjs).
const shot = (page, name) => page.locator('#train-section').screenshot({ path: join(shots, `${name}.png`) });

const panel = (page) => page.$eval('.training', (e) => ({
  state: e.dataset.state,
  step: Number(e.dataset.step),
  status: e.querySelector('.training-status').textContent,
  error: e.querySelector('.train-error').textContent,
  backend: e.querySelector('.train-backend').textContent,
  loss: e.querySelector('.train-loss polyline').getAttribute('points'),
  speed: e.querySelector('.train-speed polyline').getAttribute('points'),
}));
const stepAtLeast = (page, n, timeout = 60_000) => page.waitForFunction((k) => Number(document.querySelector('.training').dataset.step) >= k, n, { timeout });
const inState = (page, s, timeout = 30_000) => page.waitForFunction((x) => document.querySelector('.training').dataset.state === x, s, { timeout });
const setHidden = (page, hidden) => page.evaluate((h) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
}, hidden);

test('train a tiny model: the plots move, pause, reload resumes from the checkpoint, hide pauses, use, export, reset', async () => {
  const page = await load();
  assert.equal((await panel(page)).state, 'idle');
  await page.selectOption('.train-task', 'reverse');
  await page.selectOption('.train-preset', 'tiny');
  await page.click('.train-start');
  await stepAtLeast(page, 3);
  const early = await panel(page);
  assert.equal(early.state, 'running');
  assert.match(early.backend, /^Backend: CPU \(wasm\) · Reverse 8 symbols \(fast\), tiny model/);
  await stepAtLeast(page, early.step + 8);
  const later = await panel(page);
  assert.notEqual(later.loss, early.loss, 'the loss plot moved');
  assert.ok(later.loss.split(' ').length > early.loss.split(' ').length, 'the loss plot gained points');
  assert.ok(later.speed.split(' ').length >= later.step, 'one steps/s point per step');
  assert.match(later.status, /^Training: step \d+\/300 · [\d.]+ steps\/s · ETA /);
  await shot(page, 'train-01-running');

  // Pause: the step stops moving and a checkpoint of that step is saved.
  await page.click('.train-pause');
  await inState(page, 'paused');
  const paused = await panel(page);
  assert.match(paused.status, new RegExp(`^Step ${paused.step}/300, paused.* checkpoint at step ${paused.step}\\.`));
  await page.waitForTimeout(300);
  assert.equal((await panel(page)).step, paused.step, 'nothing moves while paused');

  // Reload: the run comes back paused at the checkpoint's step, with its plots; Resume continues.
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await inState(page, 'paused');
  const restored = await panel(page);
  assert.equal(restored.step, paused.step, 'the reload restored the checkpoint step');
  assert.match(restored.status, /restored from its checkpoint after a reload/);
  assert.equal(restored.loss.split(' ').length, paused.step, 'the plot history came back too');
  await shot(page, 'train-02-restored');
  await page.click('.train-resume');
  await stepAtLeast(page, paused.step + 3);
  const resumed = await panel(page);
  assert.equal(resumed.state, 'running');
  assert.ok(resumed.loss.split(' ').length >= paused.step + 3, 'steps continue after the restored ones, not from 0');

  // A hidden tab pauses (with a checkpoint); showing it again resumes.
  await setHidden(page, true);
  await inState(page, 'paused');
  assert.match((await panel(page)).status, /paused while the tab was hidden/);
  await setHidden(page, false);
  await inState(page, 'running');

  // The model being trained goes to the solver's checkpoint loader; the export is a safetensors file.
  await page.click('.train-use');
  await page.waitForFunction(() => /^Read hrm-reverse-tiny-step\d+\.safetensors: [\d,]+ trainable parameters/.test(document.querySelector('#ckpt-status').textContent), null, { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.train-export')]);
  assert.match(download.suggestedFilename(), /^hrm-reverse-tiny-step\d+\.safetensors$/);
  const bytes = await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  assert.ok(Object.keys(header).some((k) => k.includes('lm_head')), 'the export holds the model tensors');
  await shot(page, 'train-03-used');

  // Reset asks first; Keep leaves the run alone, Discard deletes it (and its checkpoint).
  await page.click('.train-reset');
  assert.match(await page.textContent('.train-confirm p'), /^Discard the run at step \d+\?/);
  await shot(page, 'train-04-confirm-reset');
  await page.click('.train-confirm-keep');
  assert.notEqual((await panel(page)).state, 'idle');
  await page.click('.train-reset');
  await page.click('.train-confirm-discard');
  await inState(page, 'idle');
  assert.equal((await panel(page)).step, 0);
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector('.train-task option[value=reverse]', { state: 'attached' });
  await page.waitForTimeout(200);
  assert.equal((await panel(page)).state, 'idle', 'a discarded run does not come back after a reload');
});

// SwiftShader is slow: the first GPU step compiles every kernel (over a minute on the shared 2-core
// machine), later ones take seconds. So this test takes two steps, pauses, and checks the checkpoint.
test('choosing WebGPU trains on the WebGPU backend (SwiftShader here) and says it is a software fallback', async () => {
  const page = await load('?backend=webgpu');
  await page.click('.train-start');
  await page.waitForFunction(() => /^Backend: WebGPU/.test(document.querySelector('.train-backend').textContent), null, { timeout: 60_000 });
  const p0 = await panel(page);
  assert.match(p0.backend, /^Backend: WebGPU \(.*software\) · Reverse 8 symbols \(fast\), tiny model/);
  assert.match(p0.backend, /software fallback: training is slower than on the CPU/);
  await stepAtLeast(page, 1, 300_000);
  const p1 = await panel(page);
  await stepAtLeast(page, p1.step + 1, 300_000);
  const p2 = await panel(page);
  assert.equal(p2.error, '');
  assert.notEqual(p2.loss, p1.loss, 'the loss plot moved');
  await page.click('.train-pause');
  await inState(page, 'paused', 300_000);
  const paused = await panel(page);
  assert.match(paused.status, new RegExp(`checkpoint at step ${paused.step}\\.`));
  await shot(page, 'train-05-webgpu');
  await page.click('.train-reset');
  await page.click('.train-confirm-discard');
  await inState(page, 'idle');
});
