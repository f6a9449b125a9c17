// The shipped models: `models/manifest.json` lists them (task, size, file, bytes, sha256, the
// measured accuracy as one honest line, and the command that trained them). A model is downloaded
// once with a progress bar, checked against its sha256 and kept in the Cache API, so a reload or a
// second visit loads it from disk.

import type { Task } from './trace';

export interface ModelEntry {
  id: string;
  task: Task;
  /** Maze side (mazes only). */
  size?: number;
  title: string;
  file: string;
  bytes: number;
  sha256: string;
  accuracy: string;
  recipe: string;
}

const CACHE = 'hrm-models-v1';

/** Reads a manifest, naming the first thing wrong with it. */
export function parseManifest(json: unknown): ModelEntry[] | string {
  const models = (json as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return 'the manifest has no "models" list';
  const out: ModelEntry[] = [];
  for (const [k, m] of models.entries()) {
    const e = m as Partial<ModelEntry>;
    const where = `model ${k + 1}${typeof e.id === 'string' ? ` (${e.id})` : ''}`;
    for (const f of ['id', 'title', 'file', 'sha256', 'accuracy', 'recipe'] as const) {
      if (typeof e[f] !== 'string') return `${where}: "${f}" must be a string`;
    }
    if (e.task !== 'sudoku' && e.task !== 'maze') return `${where}: "task" must be "sudoku" or "maze"`;
    if (typeof e.bytes !== 'number' || !(e.bytes > 0)) return `${where}: "bytes" must be a positive number`;
    if (e.task === 'maze' && typeof e.size !== 'number') return `${where}: a maze model needs its "size"`;
    if (!/^[0-9a-f]{64}$/i.test(e.sha256!)) return `${where}: "sha256" must be 64 hex digits`;
    if (e.file!.includes('/') || e.file!.includes('..')) return `${where}: "file" must be a file name in models/`;
    out.push(e as ModelEntry);
  }
  return out;
}

/** One line for the model list: title, task shape and the measured accuracy. */
export function describeModel(m: ModelEntry): string {
  const shape = m.task === 'maze' ? `maze ${m.size}×${m.size}` : 'Sudoku';
  return `${m.title} — ${shape}, ${(m.bytes / 1e6).toFixed(1)} MB — ${m.accuracy}`;
}

/** A manifest recipe as one command per line (the manifest chains them with `&&`). */
export function recipeLines(recipe: string): string {
  return recipe.split(/\s*&&\s*/).join('\n');
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads a response body, calling `progress(fraction)` as it arrives (total from `expected`). */
export async function readWithProgress(r: Response, expected: number, progress: (f: number) => void): Promise<Uint8Array> {
  if (!r.body) return new Uint8Array(await r.arrayBuffer());
  const reader = r.body.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
    progress(Math.min(1, got / Math.max(1, expected)));
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface Fetched { bytes: Uint8Array; fromCache: boolean }

/** The model's bytes: from the cache when it holds a copy with the right hash, else downloaded,
 *  checked and cached. `base` is the folder of the manifest. */
export async function fetchModel(m: ModelEntry, base: string, progress: (f: number) => void): Promise<Fetched> {
  const url = new URL(m.file, base).toString();
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE).catch(() => null) : null;
  const hit = await cache?.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if ((await sha256Hex(bytes)) === m.sha256.toLowerCase()) {
      progress(1);
      return { bytes, fromCache: true };
    }
    await cache?.delete(url);
  }
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${m.file}: the server answered ${r.status} ${r.statusText}`);
  const bytes = await readWithProgress(r, m.bytes, progress);
  if (bytes.length !== m.bytes) throw new Error(`${m.file}: got ${bytes.length} bytes, the manifest says ${m.bytes} (truncated download?)`);
  const hash = await sha256Hex(bytes);
  if (hash !== m.sha256.toLowerCase()) throw new Error(`${m.file}: its sha256 is ${hash.slice(0, 12)}…, the manifest says ${m.sha256.slice(0, 12)}… (a different or damaged file)`);
  await cache?.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } })).catch(() => undefined);
  return { bytes, fromCache: false };
}
