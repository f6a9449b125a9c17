// The page ⇄ worker message protocol. The worker owns the wasm module (and, once wired, the model),
// so the page never freezes. Every request carries an id; the worker answers it exactly once with
// a Reply; long jobs (an HRM run, training) also stream Events.

import type { Task, TraceStep, SegmentEnd, TracePca } from './trace';

export type Difficulty = 'easy' | 'medium' | 'hard' | 'extreme';
export const DIFFICULTIES: readonly Difficulty[] = ['easy', 'medium', 'hard', 'extreme'];

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

export interface BackendReport {
  /** 'absent': no navigator.gpu; 'no-adapter': requestAdapter gave null; 'available'. */
  webgpu: 'absent' | 'no-adapter' | 'available';
  /** True when the adapter is a software fallback (e.g. SwiftShader); null when unknown. */
  fallbackAdapter: boolean | null;
  /** vendor / architecture / description, as the adapter reports them. */
  adapter: string;
}

export interface Hello {
  version: string;
  backend: BackendReport;
  /** What this build can do; the page disables nothing silently and says why instead. */
  hrmAvailable: boolean;
  trainingAvailable: boolean;
  /** Why the model / training are not available, shown to the user as is. */
  hrmUnavailableReason: string;
}

export interface SudokuParsed { cells: number[] }
export interface SudokuSolved {
  /** 81 digits 1..9. */
  solution: number[];
  /** 0, 1 or 2 (2 means "more than one"; the solver stops counting there). */
  solutions: number;
  /** Search effort as the solver reports it (guesses). */
  guesses: number;
  /** Time the exact solver took, measured in the worker. */
  ms: number;
}
export interface SudokuGenerated { cells: number[]; givens: number }
export interface MazeSolved {
  /** Cells (row-major indices) of one shortest path from S to G, both ends included. */
  path: number[];
  /** Whether other shortest paths exist. */
  severalShortest: boolean;
  ms: number;
}
export interface MazeGenerated { size: number; text: string; pathLength: number }

export interface CheckpointInfo {
  /** Trainable parameter values. */
  parameters: number;
  tensors: number;
  /** The model config, as JSON. */
  configJson: string;
  /** The reader's report: config, derived sizes, every tensor's shape, dtype, range, checksum. */
  summary: string;
}

export interface HrmSolveRequest {
  task: Task;
  /** The input tokens in the task's vocabulary. */
  input: number[];
  segments: number;
  actHalting: boolean;
  backend: BackendChoice;
  /** Keep the planner's and the worker's current states and only change the input (an edit
   *  mid-run: the view re-converges); otherwise start from H_init / L_init. */
  resume?: boolean;
}

// ---- HRM models and runs (the solve part of the page) ----
/** A loaded model, as the worker reports it. */
export interface HrmModel {
  name: string;
  task: Task | 'unknown';
  seqLen: number;
  vocab: number;
  /** Side of the grid it reads (9 for Sudoku, N for N×N mazes). */
  size: number;
  hCycles: number;
  lCycles: number;
  haltMaxSteps: number;
  parameters: number;
  hidden: number;
  distribution: 'stablemax' | 'softmax';
  configJson: string;
}
/** Which backend runs the model now. */
export interface HrmBackend {
  backend: 'cpu' | 'webgpu';
  adapter: string;
  /** True on a software adapter (SwiftShader, WARP, lavapipe): the CPU path is usually faster. */
  software: boolean;
  /** Why the backend differs from the one asked for, if it does ('' otherwise). */
  note: string;
}
export interface HrmRunStart {
  task: Task;
  /** Cells of the grid the user sees (a maze embedded in a larger model is cropped back). */
  seqLen: number;
  vocab: number;
  input: number[];
  distribution: 'stablemax' | 'softmax';
  backend: HrmBackend;
  /** The model's grid side and the drawn one (equal unless a smaller maze was embedded). */
  modelSize: number;
  resumed: boolean;
}
export type HrmRunEnd = 'halted' | 'segments' | 'stopped' | 'error';

/** Test-time tries: the puzzle run as `tries` copies under its symmetries (hrm_tries in solve.rs). */
export interface HrmTriesRequest { task: Task; input: number[]; tries: number; segments: number }
export interface HrmTriesResult {
  /** A copy's answer, mapped back, passed the rules check. */
  solved: boolean;
  /** That answer (else the unaugmented copy's after the last segment), cells of the drawn grid. */
  answer: number[];
  /** The copy that solved it (0 = the puzzle as given), -1 if none did. */
  copy: number;
  segment: number;
  tries: number;
  ms: number;
}

/** Request name → [request body, reply body]. */
export interface Api {
  hello: [Record<string, never>, Hello];
  'sudoku.parse': [{ text: string }, SudokuParsed];
  'sudoku.solve': [{ cells: number[] }, SudokuSolved];
  'sudoku.generate': [{ difficulty: Difficulty; seed: number }, SudokuGenerated];
  'maze.solve': [{ text: string }, MazeSolved];
  'maze.generate': [{ size: number; minPath: number; seed: number }, MazeGenerated];
  'checkpoint.inspect': [{ weights: Uint8Array; config: string | null }, CheckpointInfo];
  'hrm.solve': [HrmSolveRequest, { runId: number }];
  'hrm.load': [{ weights: Uint8Array; config: string | null; name: string; backend: BackendChoice }, { model: HrmModel; backend: HrmBackend }];
  'hrm.backend': [{ backend: BackendChoice }, { backends: HrmBackend[] }];
  'hrm.stop': [Record<string, never>, { stopped: boolean }];
  'hrm.tries': [HrmTriesRequest, HrmTriesResult];
  // ---- training in the tab (train-worker.ts) ----
  'train.catalog': [Record<string, never>, TrainCatalog];
  'train.start': [TrainChoice, TrainSnapshot];
  'train.pause': [{ reason: TrainPauseReason }, TrainSnapshot];
  'train.resume': [Record<string, never>, TrainSnapshot];
  'train.reset': [Record<string, never>, TrainSnapshot];
  /** After a reload: the run saved in IndexedDB, resumed to a paused session (or none). */
  'train.restore': [Record<string, never>, TrainSnapshot];
  /** The weights being trained, as a safetensors checkpoint (config in its metadata). */
  'train.weights': [Record<string, never>, TrainWeights];
}
export type Kind = keyof Api;

export interface RequestMsg<K extends Kind = Kind> { id: number; kind: K; body: Api[K][0] }
export type ReplyMsg =
  | { id: number; ok: true; body: unknown }
  | { id: number; ok: false; error: string };

export type WorkerEvent =
  | { type: 'trace.step'; runId: number; step: TraceStep }
  | { type: 'trace.segment'; runId: number; segment: SegmentEnd }
  | { type: 'trace.done'; runId: number }
  | { type: 'train.progress'; runId: number; progress: TrainProgress }
  | { type: 'trace.start'; runId: number; start: HrmRunStart }
  | { type: 'trace.end'; runId: number; end: HrmRunEnd; error: string; pca: TracePca | null; msPerSegment: number[] }
  | { type: 'train.eval'; runId: number; eval: TrainEvalPoint }
  | { type: 'train.state'; runId: number; snapshot: TrainSnapshot };

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  exactAccuracy: number;
  stepsPerSecond: number;
  /** Token accuracy of the rows that halted this step. */
  accuracy?: number;
  lr?: number;
}

// ---- training in the tab ----
export interface TrainTaskInfo { id: string; label: string; family: 'synthetic' | 'sudoku' | 'maze'; seqLen: number; vocabSize: number; totalSteps: number }
export interface TrainPresetInfo { id: string; label: string; batchSize: number; hiddenSize: number }
export interface TrainCatalog { tasks: TrainTaskInfo[]; presets: TrainPresetInfo[] }
export interface TrainChoice { task: string; preset: string; backend: BackendChoice; seed?: number }
export type TrainPauseReason = 'user' | 'hidden';
/** idle: no run; running; paused (by the user, a hidden tab, or a reload); done: the schedule is finished. */
export type TrainRunState = 'idle' | 'running' | 'paused' | 'done';
export interface TrainRun {
  runId: number;
  task: TrainTaskInfo;
  preset: string;
  parameters: number;
  /** What trains, the GPU adapter (empty on the CPU), and anything to know about that choice. */
  backend: 'cpu' | 'webgpu';
  adapter: string;
  backendNote: string;
  step: number;
  totalSteps: number;
}
export interface TrainEvalPoint { step: number; exactAccuracy: number; accuracy: number; meanSteps: number }
export interface TrainSnapshot {
  state: TrainRunState;
  pausedBy: TrainPauseReason | 'reload' | null;
  run: TrainRun | null;
  /** Per-step log since the run began (restored from the checkpoint after a reload). */
  history: TrainProgress[];
  evals: TrainEvalPoint[];
  /** Step of the last checkpoint in IndexedDB, null when none. */
  savedStep: number | null;
  /** Something the user should know (a checkpoint that could not be read, a failed save). */
  message: string;
}
export interface TrainWeights { weights: Uint8Array; fileName: string; step: number; family: TrainTaskInfo['family'] }

export interface EventMsg { event: WorkerEvent }
export type FromWorker = ReplyMsg | EventMsg;
