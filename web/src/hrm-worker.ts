// The worker's side of the HRM: loaded models (one per task), the backend they run on, and runs.
// A run is a loop over ACT segments that posts every recorded step to the page as it comes; a new
// run (or hrm.stop) ends the previous one between two segments, so an edit mid-run re-solves at
// once. Everything heavy happens in the wasm module (crate/src/wasm/solve.rs).

import type * as Wasm from '../pkg/hrm.js';
import { cropStep, cropTokens, embedMaze, mismatch, resolveBackend, type Placement } from './hrm-input';
import type { BackendChoice, BackendReport, HrmBackend, HrmModel, HrmRunEnd, HrmSolveRequest, HrmTriesRequest, HrmTriesResult, WorkerEvent } from './protocol';
import type { Task, TraceStep } from './trace';
import { errorText } from './errors';

type WasmApi = typeof Wasm;

const yieldToEvents = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export class HrmHost {
  private models = new Map<Task, HrmModel>();
  private backends = new Map<Task, HrmBackend>();
  private nextRun = 1;
  private active: { id: number; stop: boolean; done: Promise<void> } | null = null;

  constructor(
    private readonly wasm: WasmApi,
    private readonly report: () => Promise<BackendReport>,
    private readonly post: (e: WorkerEvent) => void,
  ) {}

  async load(weights: Uint8Array, config: string | null, name: string, choice: BackendChoice): Promise<{ model: HrmModel; backend: HrmBackend }> {
    // Read it first into a scratch slot, so a wrong file leaves the loaded model alone.
    await this.stop();
    const i = this.wasm.hrm_load('incoming', weights, config ?? undefined);
    if (i.task === 'unknown') {
      throw new Error(`${name}: ${mismatch({ task: 'unknown', seqLen: i.seq_len, vocab: i.vocab, size: i.size }, 'sudoku', 81)}`);
    }
    const model: HrmModel = {
      name, task: i.task, seqLen: i.seq_len, vocab: i.vocab, size: i.size, hCycles: i.h_cycles, lCycles: i.l_cycles,
      haltMaxSteps: i.halt_max_steps, parameters: i.parameters, hidden: i.hidden, distribution: i.distribution, configJson: i.config_json,
    };
    const task = i.task;
    this.wasm.hrm_move('incoming', task);
    this.models.set(task, model);
    this.backends.set(task, { backend: 'cpu', adapter: 'wasm CPU', software: false, note: '' });
    const backend = await this.useBackend(task, choice);
    return { model, backend };
  }

  async setBackend(choice: BackendChoice): Promise<HrmBackend[]> {
    await this.stop();
    const out: HrmBackend[] = [];
    for (const task of this.models.keys()) out.push(await this.useBackend(task, choice));
    return out;
  }

  private async useBackend(task: Task, choice: BackendChoice): Promise<HrmBackend> {
    const r = await this.report();
    const want = resolveBackend(choice, r.webgpu === 'available', r.fallbackAdapter);
    let note = '';
    if (choice === 'webgpu' && r.webgpu !== 'available') note = 'WebGPU is not available here, so the CPU (wasm) path runs.';
    if (choice === 'auto' && want === 'cpu' && r.fallbackAdapter) note = 'The WebGPU adapter is a software fallback, so auto picked the CPU (wasm) path, which is usually faster.';
    let info: Wasm.HrmBackendInfo;
    try {
      info = await this.wasm.hrm_set_backend(task, want);
    } catch (e) {
      if (want !== 'webgpu') throw e;
      note = `WebGPU failed (${errorText(e)}), so the CPU (wasm) path runs.`;
      info = await this.wasm.hrm_set_backend(task, 'cpu');
    }
    // wgpu cannot always tell a software adapter in the browser; the page's report can.
    const software = info.backend === 'webgpu' && (info.software || r.fallbackAdapter === true);
    const b: HrmBackend = { backend: info.backend, adapter: info.backend === 'webgpu' && r.adapter ? r.adapter : info.adapter, software, note };
    this.backends.set(task, b);
    return b;
  }

  /** Ends the run in progress (between two segments) and waits for it. */
  async stop(): Promise<boolean> {
    const a = this.active;
    if (!a) return false;
    a.stop = true;
    await a.done;
    return true;
  }

  /** The loaded model for the task, the input as its tokens and where a drawn maze sits in its grid;
   *  checks the shape and ends the run in progress. */
  private async prepare(task: Task, input: number[]): Promise<{ model: HrmModel; tokens: number[]; place: Placement }> {
    const model = this.models.get(task);
    if (!model) throw new Error(`No ${task} model is loaded: choose one from the list or drop a checkpoint file.`);
    const bad = mismatch(model, task, input.length);
    if (bad) throw new Error(`Cannot run this model on this ${task}: ${bad}.`);
    await this.stop();
    if (task === 'maze') return { model, ...embedMaze(input, model.size) };
    return { model, tokens: input, place: { inner: model.size, outer: model.size } };
  }

  async solve(req: HrmSolveRequest): Promise<{ runId: number }> {
    const { model, tokens, place } = await this.prepare(req.task, req.input);
    this.wasm.hrm_start(req.task, Uint8Array.from(tokens), req.resume === true);
    const id = this.nextRun++;
    const run = { id, stop: false, done: Promise.resolve() };
    run.done = this.loop(run, req, model, place);
    this.active = run;
    return { runId: id };
  }

  /** Test-time tries on the puzzle (the watched run is stopped first; its states are kept). */
  async tries(req: HrmTriesRequest): Promise<HrmTriesResult> {
    const { tokens, place } = await this.prepare(req.task, req.input);
    const t0 = performance.now();
    const r = await this.wasm.hrm_tries(req.task, Uint8Array.from(tokens), req.tries, req.segments);
    return { solved: r.solved, answer: cropTokens(r.answer, place), copy: r.copy, segment: r.segment, tries: r.tries, ms: performance.now() - t0 };
  }

  private async loop(run: { id: number; stop: boolean }, req: HrmSolveRequest, model: HrmModel, place: Placement): Promise<void> {
    const runId = run.id;
    const backend = this.backends.get(req.task)!;
    this.post({ type: 'trace.start', runId, start: {
      task: req.task, seqLen: place.inner * place.inner, vocab: model.vocab, input: req.input, distribution: model.distribution,
      backend, modelSize: model.size, resumed: req.resume === true,
    } });
    const ms: number[] = [];
    let end: HrmRunEnd = 'segments';
    let error = '';
    try {
      for (let k = 0; k < req.segments; k++) {
        await yieldToEvents(); // let a newer request (an edit, a stop) in between segments
        if (run.stop) { end = 'stopped'; break; }
        const t0 = performance.now();
        const seg = await this.wasm.hrm_segment(req.task);
        ms.push(performance.now() - t0);
        for (const s of seg.steps) {
          const step: TraceStep = {
            segment: seg.segment, hCycle: s.h_cycle, lStep: s.l_step, module: s.module,
            residualL: s.module === 'L' ? s.residual : null,
            residualH: s.module === 'H' ? s.residual : null,
            prediction: s.prediction, confidence: s.confidence, probs: s.probs,
          };
          this.post({ type: 'trace.step', runId, step: cropStep(step, place, model.vocab) });
        }
        const halts = seg.q_halt > seg.q_continue;
        this.post({ type: 'trace.segment', runId, segment: { segment: seg.segment, qHalt: seg.q_halt, qContinue: seg.q_continue, halted: halts } });
        if (req.actHalting && halts) { end = 'halted'; break; }
      }
    } catch (e) {
      end = 'error';
      error = errorText(e);
    }
    let pca = null;
    if (end !== 'error') {
      try {
        const p = this.wasm.hrm_pca(req.task);
        pca = { l: p.l, h: p.h, explainedL: [p.explained_l[0] ?? 0, p.explained_l[1] ?? 0] as [number, number],
          explainedH: [p.explained_h[0] ?? 0, p.explained_h[1] ?? 0] as [number, number], truncated: p.truncated };
      } catch (e) {
        error = `PCA: ${errorText(e)}`;
      }
    }
    if (this.active?.id === runId) this.active = null;
    this.post({ type: 'trace.end', runId, end, error, pca, msPerSegment: ms });
  }
}
