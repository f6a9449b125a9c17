/// <reference lib="webworker" />
// The Web Worker that owns the wasm module (and, once the HRM core lands, the model), so the page
// never freezes. It answers every request of protocol.ts exactly once.

import init, * as wasm from '../pkg/hrm.js';
import { detectBackend } from './backend';
import type { Api, Hello, Kind, ReplyMsg, RequestMsg } from './protocol';
import { TrainLoop, type SessionFactory } from './train-worker';
import { defaultStore } from './train-store';

declare const self: DedicatedWorkerGlobalScope;

// Said to the user, as is, when they ask for the model or for training.
//
// Wiring the model (next step): wasm.rs gains an `HrmSession` (weights from a shipped or dropped
// checkpoint) whose `solve(tokens, segments, act, on_event)` runs `Hrm::eval_segment` with an
// `Observer` that, after every L/H call, computes ‖z − z_prev‖ (`Backend::row_diff_norm`), decodes
// `lm_head(z_H)` (for an L call: the head applied to the current z_H as if the planner updated now)
// into argmax tokens and chosen-token probabilities, and calls `on_event` with a `TraceStep`
// (trace.ts); after each segment it reports Q-halt/Q-continue and whether ACT halted. This worker
// then posts them as `trace.step` / `trace.segment` / `trace.done` events (protocol.ts) and sets
// `hrmAvailable: true`; main.ts already assembles the events into a Trace for the player and plots.
const HRM_UNAVAILABLE =
  'The HRM model is not available in this build yet: the model and its trace recorder have not been wired into the wasm module. ' +
  'The exact solvers above work; Solve with HRM will replay the real model\'s steps once it lands.';

const ready = init();

// ---- training in the tab: the loop (train-worker.ts) over the wasm TrainSession ----
const trainFactory: SessionFactory = {
  catalog: () => {
    const c = wasm.train_catalog();
    return {
      tasks: c.tasks.map((t) => ({ id: t.id, label: t.label, family: t.family, seqLen: t.seq_len, vocabSize: t.vocab_size, totalSteps: t.total_steps })),
      presets: c.presets.map((p) => ({ id: p.id, label: p.label, batchSize: p.batch_size, hiddenSize: p.hidden_size })),
    };
  },
  start: (spec, backend) => wasm.train_start(spec, backend),
  resume: (model, state, meta, backend) => wasm.train_resume(model, state, meta, backend),
  backendReport: () => (gpuReport ??= detectBackend(self.navigator.gpu)),
};
let gpuReport: ReturnType<typeof detectBackend> | null = null;
const training = new TrainLoop(trainFactory, defaultStore(self), (event) => self.postMessage({ event }));

type Handler<K extends Kind> = (body: Api[K][0]) => Api[K][1] | Promise<Api[K][1]>;
type Handlers = { [K in Kind]: Handler<K> };

const timed = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};

const handlers: Handlers = {
  async hello(): Promise<Hello> {
    return {
      version: wasm.version(),
      backend: await detectBackend(self.navigator.gpu),
      hrmAvailable: false,
      trainingAvailable: true,
      hrmUnavailableReason: HRM_UNAVAILABLE,
    };
  },
  'sudoku.parse': ({ text }) => ({ cells: [...wasm.sudoku_parse(text)] }),
  'sudoku.solve': ({ cells }) => {
    const [a, ms] = timed(() => wasm.sudoku_solve(Uint8Array.from(cells)));
    return { solution: [...a.solution], solutions: a.solutions, guesses: a.guesses, ms };
  },
  'sudoku.generate': ({ difficulty, seed }) => {
    const cells = [...wasm.sudoku_generate(difficulty, seed)];
    return { cells, givens: cells.filter((d) => d !== 0).length };
  },
  'maze.solve': ({ text }) => {
    const [a, ms] = timed(() => wasm.maze_solve(text));
    return { path: [...a.path], severalShortest: a.shortest_paths > 1, ms };
  },
  'maze.generate': ({ size, minPath, seed }) => {
    const text = wasm.maze_generate(size, minPath, seed);
    const lines = text.split('\n').filter((l) => l.length > 0);
    return { size: lines.length, text, pathLength: wasm.maze_solve(text).length };
  },
  'checkpoint.inspect': ({ weights, config }) => {
    const c = wasm.checkpoint_inspect(weights, config ?? undefined);
    return { parameters: c.parameters, tensors: c.tensors, configJson: c.config_json, summary: c.summary };
  },
  'hrm.solve': () => {
    throw new Error(HRM_UNAVAILABLE);
  },
  'train.catalog': () => training.catalog(),
  'train.start': (choice) => training.start(choice),
  'train.pause': ({ reason }) => training.pause(reason),
  'train.resume': () => training.resume(),
  'train.reset': () => training.reset(),
  'train.restore': () => training.restore(),
  'train.weights': () => training.weights(),
};

const message = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'string' ? e : String(e));

self.addEventListener('message', async (e: MessageEvent<RequestMsg>) => {
  const { id, kind, body } = e.data;
  let reply: ReplyMsg;
  try {
    await ready;
    const handler = handlers[kind] as Handler<Kind>;
    if (!handler) throw new Error(`unknown request '${String(kind)}'`);
    reply = { id, ok: true, body: await handler(body) };
  } catch (err) {
    reply = { id, ok: false, error: message(err) };
  }
  self.postMessage(reply);
});
