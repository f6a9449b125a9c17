// Builds the crate for the page: `wasm-pack build --target web` into web/pkg.
// --mode no-install: never download wasm-bindgen (GitHub is unreachable; .ci/setup installs it).
// wasm-opt comes from npm binaryen (web/node_modules/.bin first on PATH): Debian's binaryen 108
// produces a broken module, and wasm-pack silently skips wasm-opt when none is found, so we check.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(web, 'node_modules', '.bin');
if (!existsSync(join(bin, 'wasm-opt'))) {
  console.error('web/node_modules/.bin/wasm-opt is missing: run `npm ci` in web/ (or `bash .ci/setup`).');
  process.exit(1);
}
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const profile = process.argv.includes('--dev') ? '--dev' : '--release';
const args = ['build', join(web, '..', 'crate'), '--target', 'web', '--mode', 'no-install', profile,
  '--out-dir', join(web, 'pkg'), '--out-name', 'hrm', '--no-pack'];
console.log(`wasm-pack ${args.join(' ')}`);
const r = spawnSync('wasm-pack', args, { stdio: 'inherit', env });
if (r.error) {
  console.error(`could not run wasm-pack (${r.error.message}): run \`bash .ci/setup\` to install it.`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);
const wasm = join(web, 'pkg', 'hrm_bg.wasm');
console.log(`${wasm}: ${statSync(wasm).size} bytes`);
