import { describe, expect, it } from 'vitest';
import { HrmHost } from '../src/hrm-worker';
import type { BackendReport, WorkerEvent } from '../src/protocol';

/** A stand-in for the wasm solve session: records calls; segment k has q_halt = k - 1.5, q_continue 0. */
function fakeWasm(seqLen: number, vocab: number, task: 'sudoku' | 'maze', failGpu = false) {
  const calls: string[] = [];
  let seg = 0;
  let started: number[] = [];
  const step = (module: 'L' | 'H', h: number, l: number) => ({
    module, h_cycle: h, l_step: l, residual: 1 / (seg + 1),
    prediction: Uint8Array.from({ length: seqLen }, (_, i) => i % vocab),
    confidence: new Float32Array(seqLen).fill(0.5),
    probs: new Float32Array(seqLen * vocab).fill(1 / vocab),
  });
  const api = {
    hrm_load: (slot: string) => {
      calls.push(`load ${slot}`);
      return { task, seq_len: seqLen, vocab, size: Math.round(Math.sqrt(seqLen)), h_cycles: 1, l_cycles: 2, halt_max_steps: 4, parameters: 10, hidden: 8, distribution: 'stablemax', config_json: '{}' };
    },
    hrm_move: (a: string, b: string) => calls.push(`move ${a} ${b}`),
    hrm_set_backend: async (_: string, b: string) => {
      calls.push(`backend ${b}`);
      if (b === 'webgpu' && failGpu) throw new Error('gpu: no adapter found');
      return { backend: b, adapter: b === 'cpu' ? 'wasm CPU' : 'fake gpu', software: false };
    },
    hrm_start: (_: string, tokens: Uint8Array, resume: boolean) => {
      started = [...tokens];
      seg = 0;
      calls.push(`start ${tokens.length} ${resume}`);
    },
    hrm_segment: async () => {
      const s = { segment: seg, q_halt: seg - 1.5, q_continue: 0, steps: [step('L', 0, 0), step('L', 0, 1), step('H', 0, 2)] };
      seg += 1;
      return s;
    },
    hrm_pca: () => ({ l: new Float32Array(4), h: new Float32Array(2), explained_l: [0.9, 0.1], explained_h: [1, 0], truncated: false }),
  };
  return { api, calls, started: () => started };
}

const report = (fallback: boolean | null): (() => Promise<BackendReport>) => async () => ({ webgpu: 'available', fallbackAdapter: fallback, adapter: 'fake / gpu' });

function host(w: ReturnType<typeof fakeWasm>, fallback: boolean | null = false) {
  const events: WorkerEvent[] = [];
  const h = new HrmHost(w.api as never, report(fallback), (e) => events.push(e));
  const ended = () => new Promise<void>((r) => {
    const t = setInterval(() => { if (events.some((e) => e.type === 'trace.end')) { clearInterval(t); r(); } }, 5);
  });
  return { h, events, ended };
}

describe('the worker\'s HRM runs', () => {
  it('loads into a scratch slot first, then picks the backend (auto avoids a software adapter)', async () => {
    const w = fakeWasm(81, 11, 'sudoku');
    const { h } = host(w, true);
    const r = await h.load(new Uint8Array(1), null, 'm.safetensors', 'auto');
    expect(w.calls.slice(0, 3)).toEqual(['load incoming', 'move incoming sudoku', 'backend cpu']);
    expect(r.backend.note).toMatch(/software fallback/);
    expect(r.model.task).toBe('sudoku');
  });
  it('falls back to the CPU with the reason when WebGPU fails', async () => {
    const w = fakeWasm(81, 11, 'sudoku', true);
    const { h } = host(w);
    const r = await h.load(new Uint8Array(1), null, 'm', 'webgpu');
    expect(r.backend.backend).toBe('cpu');
    expect(r.backend.note).toMatch(/WebGPU failed \(gpu: no adapter found\)/);
  });
  it('streams every step and segment, and stops when ACT halts', async () => {
    const w = fakeWasm(81, 11, 'sudoku');
    const { h, events, ended } = host(w);
    await h.load(new Uint8Array(1), null, 'm', 'cpu');
    await h.solve({ task: 'sudoku', input: new Array(81).fill(1), segments: 10, actHalting: true, backend: 'cpu' });
    await ended();
    const kinds = events.map((e) => e.type);
    expect(kinds[0]).toBe('trace.start');
    // q_halt > q_continue first at segment 2 (q_halt 0.5): three segments of three steps
    expect(kinds.filter((k) => k === 'trace.step')).toHaveLength(9);
    const segs = events.flatMap((e) => (e.type === 'trace.segment' ? [e.segment] : []));
    expect(segs.map((s) => s.halted)).toEqual([false, false, true]);
    const end = events.at(-1)!;
    expect(end.type === 'trace.end' && end.end).toBe('halted');
    expect(end.type === 'trace.end' && end.pca?.explainedL).toEqual([0.9, 0.1]);
    const first = events.find((e) => e.type === 'trace.step')!;
    expect(first.type === 'trace.step' && [first.step.residualL, first.step.residualH]).toEqual([1, null]);
  });
  it('runs every segment with ACT off, even past halt_max_steps', async () => {
    const w = fakeWasm(81, 11, 'sudoku');
    const { h, events, ended } = host(w);
    await h.load(new Uint8Array(1), null, 'm', 'cpu');
    await h.solve({ task: 'sudoku', input: new Array(81).fill(1), segments: 6, actHalting: false, backend: 'cpu' });
    await ended();
    expect(events.filter((e) => e.type === 'trace.segment')).toHaveLength(6);
  });
  it('a new solve ends the previous run between segments and can resume its states', async () => {
    const w = fakeWasm(81, 11, 'sudoku');
    const { h, events } = host(w);
    await h.load(new Uint8Array(1), null, 'm', 'cpu');
    const a = await h.solve({ task: 'sudoku', input: new Array(81).fill(1), segments: 50, actHalting: false, backend: 'cpu' });
    const b = await h.solve({ task: 'sudoku', input: new Array(81).fill(2), segments: 1, actHalting: false, backend: 'cpu', resume: true });
    const endA = events.find((e) => e.type === 'trace.end' && e.runId === a.runId);
    expect(endA?.type === 'trace.end' && endA.end).toBe('stopped');
    expect(w.calls).toContain('start 81 true');
    expect(b.runId).toBe(a.runId + 1);
  });
  it('embeds a smaller maze in the model and crops the steps back', async () => {
    const w = fakeWasm(144, 6, 'maze');
    const { h, events, ended } = host(w);
    await h.load(new Uint8Array(1), null, 'm', 'cpu');
    const maze = new Array(100).fill(2);
    maze[0] = 3;
    maze[99] = 4;
    await h.solve({ task: 'maze', input: maze, segments: 1, actHalting: false, backend: 'cpu' });
    await ended();
    expect(w.started()).toHaveLength(144);
    expect(w.started()[10]).toBe(1); // column 11 of row 1 is a surrounding wall
    const step = events.find((e) => e.type === 'trace.step');
    expect(step?.type === 'trace.step' && step.step.prediction.length).toBe(100);
    await expect(h.solve({ task: 'maze', input: new Array(196).fill(2), segments: 1, actHalting: false, backend: 'cpu' })).rejects.toThrow(/14×14 but the model reads 12×12/);
    await expect(h.solve({ task: 'sudoku', input: new Array(81).fill(1), segments: 1, actHalting: false, backend: 'cpu' })).rejects.toThrow(/No sudoku model is loaded/);
  });
});
