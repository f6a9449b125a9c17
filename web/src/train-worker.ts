// The in-tab training loop, run inside the Web Worker (worker.ts registers its handlers). It holds
// the wasm TrainSession, steps it, yields to the worker's message queue between steps (so pause and
// reset get through within one step), evaluates on the held-out set, and checkpoints into the
// RunStore on an interval, on pause and when the run finishes, so a reload resumes exactly.
//
// The wasm side is behind small interfaces, so vitest drives this loop with a fake session.

import type {
  BackendChoice, BackendReport, TrainCatalog, TrainChoice, TrainEvalPoint, TrainPauseReason, TrainProgress,
  TrainRun, TrainRunState, TrainSnapshot, TrainTaskInfo, TrainWeights, WorkerEvent,
} from './protocol';
import type { RunStore, SavedRun } from './train-store';
import { errorText } from './errors';

/** The wasm TrainSession (crate/src/wasm/train.rs), as this loop uses it. */
export interface SessionLike {
  info(): { task: { id: string; label: string; family: TrainTaskInfo['family']; seq_len: number; vocab_size: number; total_steps: number }; preset: string; total_steps: number; parameters: number; backend: 'cpu' | 'webgpu'; adapter: string };
  readonly step_count: number;
  step(): Promise<{ step: number; lr: number; loss: number; accuracy: number; exact_accuracy: number }>;
  evaluate(): Promise<{ exact_accuracy: number; accuracy: number; steps: number }>;
  checkpoint(): Promise<{ model: Uint8Array; state: Uint8Array; meta: string }>;
  model_safetensors(): Promise<Uint8Array>;
  free(): void;
}

export interface SessionFactory {
  catalog(): TrainCatalog;
  start(specJson: string, backend: TrainBackend): Promise<SessionLike>;
  resume(model: Uint8Array, state: Uint8Array, meta: string, backend: TrainBackend): Promise<SessionLike>;
  /** What WebGPU offers here (worker: detectBackend). */
  backendReport(): Promise<BackendReport>;
}

export interface LoopOptions {
  /** Checkpoint at least this often (ms of training) and every `checkpointEvery` steps. */
  checkpointMs: number;
  checkpointEvery: number;
  /** Evaluate every this many steps (0: a twentieth of the run, at least 10). */
  evalEvery: number;
  /** Resolves after the worker had a chance to handle queued messages. */
  yieldNow: () => Promise<void>;
  now: () => number;
}

/** A macrotask without setTimeout's 4 ms clamp: lets queued messages (pause, reset) run. */
export function yieldToMessages(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

const DEFAULTS: LoopOptions = { checkpointMs: 15_000, checkpointEvery: 100, evalEvery: 0, yieldNow: yieldToMessages, now: () => performance.now() };

export type TrainBackend = 'cpu' | 'webgpu';

/** Which backend trains for a choice, and what to tell the user when it is not the one chosen.
 *  `auto` takes WebGPU only on a hardware adapter: on a software fallback the CPU is faster. */
export function trainingBackend(choice: BackendChoice, r: BackendReport): { backend: TrainBackend; note: string } {
  const gpu = r.webgpu === 'available';
  if (choice === 'cpu') return { backend: 'cpu', note: '' };
  if (choice === 'webgpu') {
    if (!gpu) return { backend: 'cpu', note: 'WebGPU is not available in this browser, so this run trains on the CPU (wasm).' };
    return { backend: 'webgpu', note: r.fallbackAdapter ? 'The WebGPU adapter is a software fallback: training is slower than on the CPU (wasm) here.' : '' };
  }
  if (gpu && r.fallbackAdapter === false) return { backend: 'webgpu', note: '' };
  return { backend: 'cpu', note: gpu ? 'Auto chose the CPU (wasm): the WebGPU adapter is a software fallback, slower than the CPU here.' : '' };
}

export const evalInterval = (totalSteps: number, every: number): number => (every > 0 ? every : Math.max(10, Math.round(totalSteps / 20)));

/** Steps per second smoothed over the last steps (exponential moving average of the rate). */
export class RateMeter {
  private rate = 0;
  constructor(private readonly alpha = 0.2) {}
  add(ms: number): number {
    const r = ms > 0 ? 1000 / ms : 0;
    this.rate = this.rate === 0 ? r : this.alpha * r + (1 - this.alpha) * this.rate;
    return this.rate;
  }
  reset(): void {
    this.rate = 0;
  }
}


export class TrainLoop {
  private session: SessionLike | null = null;
  private run: TrainRun | null = null;
  private state: TrainRunState = 'idle';
  private pausedBy: TrainSnapshot['pausedBy'] = null;
  private history: TrainProgress[] = [];
  private evals: TrainEvalPoint[] = [];
  private savedStep: number | null = null;
  private note = '';
  private runIds = 0;
  private loop: Promise<void> | null = null;
  private stopping = false;
  /** Serialises every call into the session (the wasm side refuses overlapping calls). */
  private lock: Promise<unknown> = Promise.resolve();
  private readonly opts: LoopOptions;
  private readonly rate = new RateMeter();

  constructor(
    private readonly factory: SessionFactory,
    private readonly store: RunStore,
    private readonly post: (e: WorkerEvent) => void,
    opts: Partial<LoopOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  private exclusive<T>(f: (s: SessionLike) => Promise<T>): Promise<T> {
    const s = this.session;
    if (!s) return Promise.reject(new Error('No training run: start one first.'));
    const next = this.lock.then(() => f(s));
    this.lock = next.catch(() => undefined);
    return next;
  }

  snapshot(): TrainSnapshot {
    const run = this.run ? { ...this.run, step: this.session?.step_count ?? this.run.step } : null;
    return { state: this.state, pausedBy: this.pausedBy, run, history: [...this.history], evals: [...this.evals], savedStep: this.savedStep, message: this.note };
  }

  private announce(): TrainSnapshot {
    const s = this.snapshot();
    this.post({ type: 'train.state', runId: this.run?.runId ?? 0, snapshot: s });
    return s;
  }

  private adopt(session: SessionLike, note: string): void {
    const info = session.info();
    const t = info.task;
    this.session = session;
    this.run = {
      runId: ++this.runIds,
      task: { id: t.id, label: t.label, family: t.family, seqLen: t.seq_len, vocabSize: t.vocab_size, totalSteps: t.total_steps },
      preset: info.preset,
      parameters: info.parameters,
      backend: info.backend,
      adapter: info.adapter,
      backendNote: note,
      step: session.step_count,
      totalSteps: info.total_steps,
    };
  }

  catalog(): TrainCatalog {
    return this.factory.catalog();
  }

  async start(choice: TrainChoice): Promise<TrainSnapshot> {
    if (this.session) throw new Error('A training run already exists: reset it before starting another.');
    const { backend, note } = trainingBackend(choice.backend, await this.factory.backendReport());
    const seed = choice.seed ?? Math.floor(Math.random() * 2 ** 31);
    const spec = JSON.stringify({ task: choice.task, preset: choice.preset, seed });
    const [session, why] = await this.open(backend, note, (b) => this.factory.start(spec, b));
    await this.store.clear(); // the old run's checkpoint is not this run's
    this.adopt(session, why);
    this.history = [];
    this.evals = [];
    this.savedStep = null;
    this.note = '';
    this.begin();
    return this.announce();
  }

  /** Opens a session on `backend`; a GPU that fails to start falls back to the CPU and says why. */
  private async open(backend: TrainBackend, note: string, f: (b: TrainBackend) => Promise<SessionLike>): Promise<[SessionLike, string]> {
    if (backend === 'cpu') return [await f('cpu'), note];
    try {
      return [await f('webgpu'), note];
    } catch (e) {
      return [await f('cpu'), `WebGPU training could not start (${errorText(e)}), so this run trains on the CPU (wasm).`];
    }
  }

  /** Resumes the run saved in the store, paused; a run already held is returned as it is. */
  async restore(): Promise<TrainSnapshot> {
    if (this.session) return this.snapshot();
    let saved: SavedRun | null;
    try {
      saved = await this.store.load();
    } catch (e) {
      this.note = `The saved training run could not be read (${errorText(e)}); starting a new run replaces it.`;
      return this.snapshot();
    }
    if (!saved) return this.snapshot();
    try {
      const [session, why] = await this.open(saved.backend ?? 'cpu', '', (b) => this.factory.resume(saved.model, saved.state, saved.meta, b));
      this.adopt(session, why);
      const step = session.step_count;
      // Points logged after the checkpoint are gone with the steps that made them.
      this.history = saved.history.filter((p) => p.step <= step);
      this.evals = saved.evals.filter((p) => p.step <= step);
      this.savedStep = step;
      this.state = step >= session.info().total_steps ? 'done' : 'paused';
      this.pausedBy = 'reload';
      this.note = '';
    } catch (e) {
      this.note = `The saved training run could not be resumed (${errorText(e)}); starting a new run replaces it.`;
    }
    return this.snapshot();
  }

  async pause(reason: TrainPauseReason): Promise<TrainSnapshot> {
    if (this.state !== 'running') return this.snapshot();
    await this.halt();
    this.state = 'paused';
    this.pausedBy = reason;
    await this.save();
    return this.announce();
  }

  async resume(): Promise<TrainSnapshot> {
    if (this.state === 'running') return this.snapshot();
    if (this.state !== 'paused' || !this.session) throw new Error('There is no paused run to resume.');
    this.begin();
    return this.announce();
  }

  async reset(): Promise<TrainSnapshot> {
    await this.halt();
    await this.lock;
    this.session?.free();
    this.session = null;
    this.run = null;
    this.state = 'idle';
    this.pausedBy = null;
    this.history = [];
    this.evals = [];
    this.savedStep = null;
    this.note = '';
    await this.store.clear();
    return this.announce();
  }

  async weights(): Promise<TrainWeights> {
    const run = this.run;
    if (!run) throw new Error('No model is being trained: start a run first.');
    const [weights, step] = await this.exclusive(async (s) => [await s.model_safetensors(), s.step_count] as const);
    return { weights, step, family: run.task.family, fileName: `hrm-${run.task.id}-${run.preset}-step${step}.safetensors` };
  }

  private begin(): void {
    this.state = 'running';
    this.pausedBy = null;
    this.stopping = false;
    this.rate.reset();
    this.loop = this.steps().catch((e) => {
      this.state = 'paused';
      this.pausedBy = 'user';
      this.note = `Training stopped: ${errorText(e)}`;
      this.announce();
    });
  }

  /** Stops the loop after the step in flight. */
  private async halt(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.loop = null;
  }

  private async save(): Promise<void> {
    const run = this.run;
    if (!run) return;
    try {
      const [files, step] = await this.exclusive(async (s) => [await s.checkpoint(), s.step_count] as const);
      await this.store.save({ version: 1, ...files, backend: run.backend, step, history: [...this.history], evals: [...this.evals], savedAt: Date.now() });
      this.savedStep = step;
    } catch (e) {
      this.note = `The checkpoint could not be saved: ${errorText(e)}`;
    }
  }

  private async steps(): Promise<void> {
    const run = this.run!;
    const total = run.totalSteps;
    const every = evalInterval(total, this.opts.evalEvery);
    let lastSave = this.opts.now();
    let t0 = this.opts.now();
    while (!this.stopping) {
      const log = await this.exclusive((s) => s.step());
      const t1 = this.opts.now();
      const progress: TrainProgress = {
        step: log.step, totalSteps: total, loss: log.loss, exactAccuracy: log.exact_accuracy,
        accuracy: log.accuracy, lr: log.lr, stepsPerSecond: this.rate.add(t1 - t0),
      };
      this.history.push(progress);
      this.post({ type: 'train.progress', runId: run.runId, progress });
      const finished = log.step >= total;
      if (log.step % every === 0 || finished) {
        const ev = await this.exclusive((s) => s.evaluate());
        const point: TrainEvalPoint = { step: log.step, exactAccuracy: ev.exact_accuracy, accuracy: ev.accuracy, meanSteps: ev.steps };
        this.evals.push(point);
        this.post({ type: 'train.eval', runId: run.runId, eval: point });
      }
      if (finished) {
        await this.save(); // before 'done' is visible, so a finished run is always saved
        this.state = 'done';
        this.announce();
        return;
      }
      if (log.step % this.opts.checkpointEvery === 0 || this.opts.now() - lastSave >= this.opts.checkpointMs) {
        await this.save();
        lastSave = this.opts.now();
        this.announce();
      }
      await this.opts.yieldNow();
      t0 = t1; // the rate counts everything between steps too (evaluation, saving, yielding)
    }
  }
}
