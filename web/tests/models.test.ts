import { describe, expect, it } from 'vitest';
import { describeModel, parseManifest, readWithProgress, recipeLines, sha256Hex } from '../src/models';

const good = {
  id: 'sudoku-medium', task: 'sudoku', title: 'Sudoku (medium)', file: 'sudoku-medium.safetensors', bytes: 1_234_567,
  sha256: 'a'.repeat(64), accuracy: '61% exact on 1000 held-out medium puzzles', recipe: 'hrm train --data sudoku …',
};

describe('the model manifest', () => {
  it('reads the listed models', () => {
    const m = parseManifest({ models: [good, { ...good, id: 'maze-15', task: 'maze', size: 15 }] });
    expect(Array.isArray(m) && m.map((e) => e.id)).toEqual(['sudoku-medium', 'maze-15']);
  });
  it('names what is wrong', () => {
    expect(parseManifest({})).toMatch(/no "models" list/);
    expect(parseManifest({ models: [{ ...good, task: 'arc' }] })).toMatch(/model 1 \(sudoku-medium\): "task"/);
    expect(parseManifest({ models: [{ ...good, sha256: 'xyz' }] })).toMatch(/64 hex digits/);
    expect(parseManifest({ models: [{ ...good, task: 'maze' }] })).toMatch(/needs its "size"/);
    expect(parseManifest({ models: [{ ...good, file: '../etc/passwd' }] })).toMatch(/file name in models/);
    expect(parseManifest({ models: [{ ...good, bytes: 0 }] })).toMatch(/positive/);
  });
  it('labels each model with its measured accuracy', () => {
    expect(describeModel(good as never)).toBe('Sudoku (medium) — Sudoku, 1.2 MB — 61% exact on 1000 held-out medium puzzles');
    expect(describeModel({ ...good, task: 'maze', size: 15 } as never)).toMatch(/maze 15×15/);
  });
  it('shows a chained recipe one command per line', () => {
    expect(recipeLines('hrm train --out a && hrm train --out a --resume&&hrm average a b -o c')).toBe('hrm train --out a\nhrm train --out a --resume\nhrm average a b -o c');
    expect(recipeLines('hrm train --data maze')).toBe('hrm train --data maze');
  });
});

describe('downloads', () => {
  it('reports progress as the body arrives and returns every byte', async () => {
    const chunks = [new Uint8Array([1, 2]), new Uint8Array([3, 4, 5]), new Uint8Array([6])];
    const body = new ReadableStream<Uint8Array>({ start(c) { for (const ch of chunks) c.enqueue(ch); c.close(); } });
    const seen: number[] = [];
    const bytes = await readWithProgress(new Response(body), 6, (f) => seen.push(f));
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen).toEqual([2 / 6, 5 / 6, 1]);
  });
  it('hashes with SHA-256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
