// `npm --prefix web run demo`: installs what is missing (bash .ci/setup), builds the wasm and the
// page, then serves it on http://127.0.0.1:4173/ and prints that URL. Ctrl-C stops it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const run = (cmd, args, cwd = web) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (!existsSync(join(web, 'node_modules', '.bin', 'vite')) || !has('wasm-pack') || !has('wasm-bindgen')) {
  console.log('Installing what is missing (bash .ci/setup)…');
  run('bash', [join(root, '.ci', 'setup')], root);
}
run('node', [join(web, 'scripts', 'build-wasm.mjs')]);
run(join(web, 'node_modules', '.bin', 'vite'), ['build']);

const { preview } = await import('vite');
const server = await preview({ root: web, preview: { host: '127.0.0.1', port: Number(process.env.PORT ?? 4173), strictPort: true } });
const url = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:4173/';
console.log(`\nThe page is served at ${url}  (Ctrl-C stops it)`);
