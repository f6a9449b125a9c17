// Measures in-tab training in headless Chromium against the built page (web/dist): for a task and a
// preset, the steps and wall time until the held-out exact accuracy first reaches a threshold.
//   node scripts/train-measure.mjs [--task reverse] [--preset tiny] [--target 0.9] [--max-s 600] [--backend cpu]
// Prints one JSON line per evaluation and a summary line. Wall time counts from the Start click.
import { openPage, startBrowser, startServer } from '../e2e/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const task = arg('task', 'reverse');
const preset = arg('preset', 'tiny');
const target = Number(arg('target', '0.9'));
const maxS = Number(arg('max-s', '600'));
const backend = arg('backend', 'cpu');

const server = await startServer();
const browser = await startBrowser();
let summary;
try {
  const { page, problems, close } = await openPage(browser, `${server.url}?backend=${backend}`);
  await page.waitForSelector(`.train-task option[value="${task}"]`, { state: 'attached' });
  await page.selectOption('.train-task', task);
  await page.selectOption('.train-preset', preset);
  const t0 = Date.now();
  await page.click('.train-start');
  let seen = '';
  for (;;) {
    await page.waitForTimeout(250);
    const d = await page.$eval('.training', (e) => ({ state: e.dataset.state, step: Number(e.dataset.step), held: e.dataset.heldOut, backend: e.querySelector('.train-backend').textContent }));
    const s = (Date.now() - t0) / 1000;
    if (d.held && d.held !== seen) {
      seen = d.held;
      const [acc, at] = d.held.split(' @ ').map(Number);
      console.log(JSON.stringify({ step: at, heldOutExact: acc, wallS: Number(s.toFixed(1)) }));
      if (acc >= target) {
        summary = { task, preset, target, reached: true, step: at, wallS: Number(s.toFixed(1)), stepsPerS: Number((d.step / s).toFixed(2)), backend: d.backend };
        break;
      }
    }
    if (d.state === 'done' || s > maxS) {
      summary = { task, preset, target, reached: false, step: d.step, wallS: Number(s.toFixed(1)), lastHeldOut: seen, backend: d.backend };
      break;
    }
  }
  await page.click('.train-pause').catch(() => undefined);
  await close();
  if (problems.length) console.log(JSON.stringify({ problems }));
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(summary));
