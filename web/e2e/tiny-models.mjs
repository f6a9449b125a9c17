// Tiny untrained checkpoints for the solve tests, written by the crate itself (the built wasm
// module, run in Node): `checkpoint_init` gives the official initialisation of a small config as
// safetensors bytes with the config in the metadata. They are served to the page through a routed
// manifest, so the tests do not depend on which trained models are shipped.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { web } from './harness.mjs';

let ready = null;
async function wasm() {
  if (!ready) {
    ready = import(join(web, 'pkg', 'hrm.js')).then((m) => {
      m.initSync({ module: readFileSync(join(web, 'pkg', 'hrm_bg.wasm')) });
      return m;
    });
  }
  return ready;
}

export const tinyConfig = (seqLen, vocab) => ({
  batch_size: 1, seq_len: seqLen, puzzle_emb_ndim: 0, num_puzzle_identifiers: 1, vocab_size: vocab,
  H_cycles: 2, L_cycles: 2, H_layers: 1, L_layers: 1, hidden_size: 32, expansion: 2, num_heads: 2,
  pos_encodings: 'learned', rms_norm_eps: 1e-5, rope_theta: 10000, halt_max_steps: 4,
  halt_exploration_prob: 0.1, forward_dtype: 'float32', loss_type: 'stablemax_cross_entropy',
});

export async function checkpoint(config, seed = 1) {
  const m = await wasm();
  return Buffer.from(m.checkpoint_init(JSON.stringify(config), seed));
}

/** The manifest entries and file bytes of a tiny Sudoku model and a tiny `mazeSize` maze model. */
export async function tinyModels(mazeSize) {
  const files = {
    'tiny-sudoku.safetensors': await checkpoint(tinyConfig(81, 11), 1),
    [`tiny-maze-${mazeSize}.safetensors`]: await checkpoint(tinyConfig(mazeSize * mazeSize, 6), 2),
  };
  const entry = (id, task, file, extra = {}) => ({
    id, task, title: `Tiny untrained ${task} model (test)`, file, bytes: files[file].length,
    sha256: createHash('sha256').update(files[file]).digest('hex'),
    accuracy: 'untrained: 0% exact (test fixture)', recipe: 'checkpoint_init (e2e fixture)', ...extra,
  });
  const manifest = { models: [
    entry('tiny-sudoku', 'sudoku', 'tiny-sudoku.safetensors'),
    entry(`tiny-maze-${mazeSize}`, 'maze', `tiny-maze-${mazeSize}.safetensors`, { size: mazeSize }),
  ] };
  return { manifest, files };
}

/** Serves `manifest` and `files` under models/ for this page (Playwright routing). */
export async function routeModels(page, { manifest, files }) {
  await page.route('**/models/manifest.json', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(manifest) }));
  await page.route('**/models/*.safetensors', (r) => {
    const name = new URL(r.request().url()).pathname.split('/').pop();
    const body = files[name];
    return body ? r.fulfill({ contentType: 'application/octet-stream', body }) : r.fulfill({ status: 404, body: 'not found' });
  });
}
