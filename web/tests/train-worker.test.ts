import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../src/protocol';
import { MemoryStore } from '../src/train-store';
import { RateMeter, TrainLoop, evalInterval, trainingBackend, type SessionFactory, type SessionLike } from '../src/train-worker';

/** A stand-in for the wasm TrainSession: the loss falls with the step; overlapping calls fail as the wasm side does. */
class FakeSession implements SessionLike {
  busy = false;
  freed = false;
  constructor(public step_count: number, readonly total: number) {}
  info() {
    return { task: { id: 'reverse', label: 'Reverse', family: 'synthetic' as const, seq_len: 8, vocab_size: 5, total_steps: this.total }, preset: 'tiny', total_steps: this.total, parameters: 99 };
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

const factory = (total = 40): SessionFactory & { sessions: FakeSession[] } => {
  const sessions: FakeSession[] = [];
  return {
    sessions,
    catalog: () => ({ tasks: [], presets: [] }),
    start: async () => {
      const s = new FakeSession(0, total);
      sessions.push(s);
      return s;
    },
    resume: async (_m, _s, meta) => {
      const s = new FakeSession((JSON.parse(meta) as { step: number }).step, total);
      sessions.push(s);
      return s;
    },
  };
};

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

const setup = (total = 40, store = new MemoryStore()) => {
  const events: WorkerEvent[] = [];
  const f = factory(total);
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

  it('refuses a second run and says WebGPU training falls back to the CPU', async () => {
    const { loop } = setup();
    const s = await loop.start({ task: 'reverse', preset: 'tiny', backend: 'webgpu' });
    expect(s.run!.backend).toBe('cpu');
    expect(s.run!.backendNote).toMatch(/WebGPU is not available/);
    await expect(loop.start({ task: 'reverse', preset: 'tiny', backend: 'cpu' })).rejects.toThrow(/reset it/);
    await loop.reset();
    expect(trainingBackend('auto').note).toBe('');
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
