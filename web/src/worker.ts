/// <reference lib="webworker" />
// The Web Worker that owns the wasm module and the HRM models (hrm-worker.ts), so the page never
// freezes. It answers every request of protocol.ts exactly once.

import init, * as wasm from '../pkg/hrm.js';
import { detectBackend, wasmStartError } from './backend';
import { HrmHost } from './hrm-worker';
import type { Api, Hello, Kind, ReplyMsg, RequestMsg } from './protocol';
import { TrainLoop, type SessionFactory } from './train-worker';
import { defaultStore } from './train-store';
import { errorText } from './errors';

declare const self: DedicatedWorkerGlobalScope;

// Every request waits for the module; one that did not compile answers each with what is needed.
const ready = init().catch((e: unknown) => {
  throw wasmStartError(e);
});

// The HRM models and runs (hrm-worker.ts); the adapter report is asked once.
let report: ReturnType<typeof detectBackend> | null = null;
const backendReport = (): ReturnType<typeof detectBackend> => (report ??= detectBackend(self.navigator.gpu));
const hrm = new HrmHost(wasm, backendReport, (event) => self.postMessage({ event }));

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
  backendReport,
};
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
      backend: await backendReport(),
      hrmAvailable: true,
      trainingAvailable: true,
      hrmUnavailableReason: '',
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
  'hrm.solve': (req) => hrm.solve(req),
  'hrm.load': ({ weights, config, name, backend }) => hrm.load(weights, config, name, backend),
  'hrm.backend': async ({ backend }) => ({ backends: await hrm.setBackend(backend) }),
  'hrm.stop': async () => ({ stopped: await hrm.stop() }),
  'hrm.tries': (req) => hrm.tries(req),
  'train.catalog': () => training.catalog(),
  'train.start': (choice) => training.start(choice),
  'train.pause': ({ reason }) => training.pause(reason),
  'train.resume': () => training.resume(),
  'train.reset': () => training.reset(),
  'train.restore': () => training.restore(),
  'train.weights': () => training.weights(),
};


self.addEventListener('message', async (e: MessageEvent<RequestMsg>) => {
  const { id, kind, body } = e.data;
  let reply: ReplyMsg;
  try {
    await ready;
    const handler = handlers[kind] as Handler<Kind>;
    if (!handler) throw new Error(`unknown request '${String(kind)}'`);
    reply = { id, ok: true, body: await handler(body) };
  } catch (err) {
    reply = { id, ok: false, error: errorText(err) };
  }
  self.postMessage(reply);
});
