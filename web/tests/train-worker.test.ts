import { describe, expect, it } from 'vitest';
import type { BackendReport, WorkerEvent } from '../src/protocol';
import { MemoryStore } from '../src/train-store';
import { RateMeter, TrainLoop, evalInterval, trainingBackend, type SessionFactory, type SessionLike } from '../src/train-worker';

/** A stand-in for the wasm TrainSession: the loss falls with the step; overlapping calls fail as the wasm side does. */
class FakeSession implements SessionLike {
  busy = false;
  freed = false;
  constructor(public step_count: number, readonly total: number, readonly backend: 'cpu' | 'webgpu' = 'cpu') {}
  info() {
    return { task: { id: 'reverse', label: 'Reverse', family: 'synthetic' as const, seq_len: 8, vocab_size: 5, total_steps: this.total }, preset: 'tiny', total_steps: this.total, parameters: 99, backend: this.backend, adapter: this.backend === 'webgpu' ? 'fake gpu' : '' };
  }
  private async call<T>(f: () => T): Promise<T> {
    if (this.busy) throw new Error('busy');
    this.busy = true;
    await new Promise((r) => setTimeout(r, 1));
    this.busy = false;
    return f();
  }
  step() {
    return this.call(() => {
      this.step_count++;
      return { step: this.step_count, lr: 1e-3, loss: 1 / this.step_count, accuracy: 0.5, exact_accuracy: this.step_count / this.total };
    });
  }
  evaluate() {
    return this.call(() => ({ exact_accuracy: this.step_count / this.total, accuracy: 0.9, steps: 2 }));
  }
  checkpoint() {
    return this.call(() => ({ model: new Uint8Array([1]), state: new Uint8Array([2]), meta: JSON.stringify({ step: this.step_count }) }));
  }
  model_safetensors() {
    return this.call(() => new Uint8Array([this.step_count]));
  }
  free() {
    this.freed = true;
  }
}

const NO_GPU: BackendReport = { webgpu: 'absent', fallbackAdapter: null, adapter: '' };
const SOFT_GPU: BackendReport = { webgpu: 'available', fallbackAdapter: true, adapter: 'swiftshader' };
const HARD_GPU: BackendReport = { webgpu: 'available', fallbackAdapter: false, adapter: 'real' };

const factory = (total = 40, report = NO_GPU, gpuFails = false): SessionFactory & { sessions: FakeSession[] } => {
  const sessions: FakeSession[] = [];
  const make = async (step: number, backend: 'cpu' | 'webgpu') => {
    if (backend === 'webgpu' && gpuFails) throw new Error('gpu: adapter too weak');
    const s = new FakeSession(step, total, backend);
    sessions.push(s);
    return s;
  };
  return {
    sessions,
    catalog: () => ({ tasks: [], presets: [] }),
    start: (_spec, b) => make(0, b),
    resume: (_m, _s, meta, b) => make((JSON.parse(meta) as { step: number }).step, b),
    backendReport: async () => report,
  };
};

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

const setup = (total = 40, store = new MemoryStore(), report = NO_GPU, gpuFails = false) => {
  const events: WorkerEvent[] = [];
  const f = factory(total, report, gpuFails);
  let t = 0;
  const loop = new TrainLoop(f, store, (e) => events.push(e), {
    checkpointEvery: 10, checkpointMs: 1e9, evalEvery: 5, yieldNow: () => new Promise((r) => setTimeout(r, 0)), now: () => (t += 100),
  });
  const steps = () => events.filter((e) => e.type === 'train.progress').map((e) => (e.type === 'train.progress' ? e.progress.step : 0));
  return { loop, events, f, store, steps };
};

describe('the in-worker training loop', () => {
  it('streams progress, evaluates, pauses with a checkpoint and resumes where it stopped', async () => {
    const { loop, events, store, steps } = setup();
    const s0 = await loop.start({ task: 'reverse', preset: 'tiny', backend: 'auto', seed: 1 });
    expect(s0.state).toBe('running');
    await until(() => steps().length >= 7);
    const paused = await loop.pause('user');
    expect(paused.state).toBe('paused');
    expect(paused.pausedBy).toBe('user');
    const at = paused.run!.step;
    expect(at).toBeGreaterThanOrEqual(7);
    // Pausing saved a checkpoint of exactly that step, with the plot history.
    expect(store.saved!.step).toBe(at);
    expect(paused.savedStep).toBe(at);
    expect(store.saved!.history.map((p) => p.step)).toEqual(steps());
    const evals = events.filter((e) => e.type === 'train.eval');
    expect(evals.length).toBe(Math.floor(at / 5));
    // Nothing moves while paused.
    await new Promise((r) => setTimeout(r, 20));
    expect(steps().length).toBe(at);
    await loop.resume();
    await until(() => steps().length >= at + 3);
    expect(steps().slice(0, at + 3)).toEqual(Array.from({ length: at + 3 }, (_, i) => i + 1));
    await loop.reset();
  });

  it('steps/s is measured from the clock', async () => {
    const { loop, events, steps } = setup();
    await loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' });
    await until(() => steps().length >= 3);
    await loop.pause('user');
    const p = events.find((e) => e.type === 'train.progress');
    // The fake clock advances 100 ms per reading.
    expect(p && p.type === 'train.progress' && p.progress.stepsPerSecond).toBeGreaterThan(0);
    expect(p && p.type === 'train.progress' && p.progress.stepsPerSecond).toBeLessThanOrEqual(10);
  });

  it('finishes at the schedule length with a final evaluation and checkpoint', async () => {
    const { loop, events, store } = setup(12);
    await loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' });
    await until(() => loop.snapshot().state === 'done');
    expect(store.saved!.step).toBe(12);
    const evals = events.flatMap((e) => (e.type === 'train.eval' ? [e.eval.step] : []));
    expect(evals).toEqual([5, 10, 12]);
    await expect(loop.resume()).rejects.toThrow(/no paused run/);
  });

  it('a new worker (a reload) resumes the saved run, paused, with its history up to the checkpoint', async () => {
    const store = new MemoryStore();
    const a = setup(40, store);
    await a.loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' });
    await until(() => a.steps().length >= 12); // a checkpoint at step 10 (checkpointEvery), then more steps
    // The tab is closed without a pause: only the periodic checkpoint exists.
    const saved = store.saved!;
    expect(saved.step).toBe(10);
    await a.loop.pause('hidden'); // (stops the fake loop; the store copy above is what a crash would leave)
    store.saved = saved;

    const b = setup(40, store);
    const s = await b.loop.restore();
    expect(s.state).toBe('paused');
    expect(s.pausedBy).toBe('reload');
    expect(s.run!.step).toBe(10);
    expect(s.history.map((p) => p.step)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    await b.loop.resume();
    await until(() => b.steps().length >= 2);
    expect(b.steps().slice(0, 2)).toEqual([11, 12]);
    await b.loop.reset();
    expect(store.saved).toBeNull();
    expect(b.f.sessions[0]!.freed).toBe(true);
  });

  it('hands out the weights between steps without overlapping a step', async () => {
    const { loop, steps } = setup();
    await loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' });
    await until(() => steps().length >= 2);
    const w = await loop.weights();
    expect(w.weights.length).toBe(1);
    expect(w.fileName).toMatch(/^hrm-reverse-tiny-step\d+\.safetensors$/);
    expect(w.family).toBe('synthetic');
    expect(loop.snapshot().state).toBe('running'); // no "busy" error stopped the loop
    await loop.reset();
  });

  it('refuses a second run; picks the backend from the choice and what the browser offers', async () => {
    const { loop } = setup();
    const s = await loop.start({ task: 'reverse', preset: 'tiny', backend: 'webgpu' });
    expect(s.run!.backend).toBe('cpu');
    expect(s.run!.backendNote).toMatch(/WebGPU is not available in this browser/);
    await expect(loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' })).rejects.toThrow(/reset it/);
    await loop.reset();
    expect(trainingBackend('auto', NO_GPU)).toEqual({ backend: 'cpu', note: '' });
    expect(trainingBackend('auto', SOFT_GPU).backend).toBe('cpu');
    expect(trainingBackend('auto', SOFT_GPU).note).toMatch(/software fallback/);
    expect(trainingBackend('auto', HARD_GPU)).toEqual({ backend: 'webgpu', note: '' });
    expect(trainingBackend('webgpu', SOFT_GPU).backend).toBe('webgpu');
    expect(trainingBackend('cpu', HARD_GPU)).toEqual({ backend: 'cpu', note: '' });
  });

  it('trains on WebGPU when chosen, resumes there after a reload, and falls back to the CPU when the GPU fails', async () => {
    const store = new MemoryStore();
    const a = setup(40, store, SOFT_GPU);
    const s = await a.loop.start({ task: 'reverse', preset: 'tiny', backend: 'webgpu' });
    expect(s.run!.backend).toBe('webgpu');
    expect(s.run!.adapter).toBe('fake gpu');
    await until(() => a.steps().length >= 2);
    await a.loop.pause('user');
    expect(store.saved!.backend).toBe('webgpu');
    const b = setup(40, store, SOFT_GPU);
    expect((await b.loop.restore()).run!.backend).toBe('webgpu');
    const c = setup(40, new MemoryStore(), SOFT_GPU, true);
    const f = await c.loop.start({ task: 'reverse', preset: 'tiny', backend: 'webgpu' });
    expect(f.run!.backend).toBe('cpu');
    expect(f.run!.backendNote).toMatch(/WebGPU training could not start \(gpu: adapter too weak\)/);
    await c.loop.reset();
  });

  it('a stored run that cannot be resumed is reported, not thrown', async () => {
    const store = new MemoryStore();
    store.saved = { version: 1, model: new Uint8Array(), state: new Uint8Array(), meta: 'not json', step: 3, history: [], evals: [], savedAt: 0 };
    const { loop } = setup(40, store);
    const s = await loop.restore();
    expect(s.state).toBe('idle');
    expect(s.message).toMatch(/could not be resumed/);
  });

  it('helpers: eval interval and the rate meter', () => {
    expect(evalInterval(300, 0)).toBe(15);
    expect(evalInterval(50, 0)).toBe(10);
    expect(evalInterval(300, 7)).toBe(7);
    const r = new RateMeter(0.5);
    expect(r.add(100)).toBe(10);
    expect(r.add(50)).toBe(15);
  });
});
