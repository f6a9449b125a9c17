// What the model reads and how its answer maps back to the board: a model has one fixed sequence
// length, so a smaller maze is embedded in the model's size by surrounding it with walls (walls are
// impassable: it is still the same maze) and every recorded step is cropped back to the drawn maze.
// A larger maze, or a puzzle of the other task, gets a message naming both shapes.

import type { Task, TraceStep } from './trace';

/** The shape of a loaded model, as the worker reports it (crate: HrmModelInfo). */
export interface ModelShape {
  task: Task | 'unknown';
  seqLen: number;
  vocab: number;
  /** Side of the square grid the model reads (9 for Sudoku, N for N×N mazes). */
  size: number;
}

export const MAZE_WALL = 1;
export const MAZE_PATH = 5;

export interface Placement {
  /** Side of the drawn grid. */
  inner: number;
  /** Side of the model's grid. */
  outer: number;
}

/** Why `task` with `cells` tokens cannot run on `model`, or null when it can. */
export function mismatch(model: ModelShape, task: Task, cells: number): string | null {
  if (model.task === 'unknown') {
    return `this model reads ${model.seqLen} tokens from a vocabulary of ${model.vocab}: that is neither a Sudoku model (81 tokens, vocabulary 11) nor a maze model (N×N tokens, vocabulary 6)`;
  }
  if (model.task !== task) return `the loaded model is a ${model.task} model, not a ${task} model: load a ${task} model`;
  if (task === 'sudoku') return cells === 81 ? null : `a Sudoku has 81 cells, this input has ${cells}`;
  const n = Math.round(Math.sqrt(cells));
  if (n * n !== cells) return `a maze must be square, this one has ${cells} cells`;
  if (n > model.size) {
    return `this maze is ${n}×${n} but the model reads ${model.size}×${model.size} mazes: draw one of at most ${model.size}×${model.size} (a smaller one is surrounded by walls), or load a ${n}×${n} model`;
  }
  return null;
}

/** The drawn n×n maze tokens placed at the top-left of an outer×outer grid of walls. */
export function embedMaze(tokens: readonly number[], outer: number): { tokens: number[]; place: Placement } {
  const inner = Math.round(Math.sqrt(tokens.length));
  const out = new Array<number>(outer * outer).fill(MAZE_WALL);
  for (let r = 0; r < inner; r++) {
    for (let c = 0; c < inner; c++) out[r * outer + c] = tokens[r * inner + c]!;
  }
  return { tokens: out, place: { inner, outer } };
}

/** Tokens of the outer grid cut back to the drawn maze (its top-left inner×inner cells). */
export function cropTokens(tokens: ArrayLike<number>, place: Placement): number[] {
  const { inner, outer } = place;
  return Array.from({ length: inner * inner }, (_, i) => tokens[Math.floor(i / inner) * outer + (i % inner)]!);
}

/** A recorded step of the outer grid, cut back to the drawn maze (per-cell arrays and distributions). */
export function cropStep(step: TraceStep, place: Placement, vocab: number): TraceStep {
  if (place.inner === place.outer) return step;
  const { inner, outer } = place;
  const prediction = new Uint8Array(inner * inner);
  const confidence = new Float32Array(inner * inner);
  const probs = step.probs ? new Float32Array(inner * inner * vocab) : undefined;
  for (let r = 0; r < inner; r++) {
    for (let c = 0; c < inner; c++) {
      const i = r * inner + c;
      const o = r * outer + c;
      prediction[i] = step.prediction[o]!;
      confidence[i] = step.confidence[o]!;
      if (probs && step.probs) probs.set(step.probs.subarray(o * vocab, (o + 1) * vocab), i * vocab);
    }
  }
  return { ...step, prediction, confidence, ...(probs ? { probs } : {}) };
}

/** Cells the model marks as the path ('o'), for the overlay on the maze. */
export function predictedPath(prediction: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < prediction.length; i++) if (prediction[i] === MAZE_PATH) out.push(i);
  return out;
}

/** Whether a predicted path is a valid route: it joins S to G through open cells, each step to a
 *  neighbour (the cells marked 'o' plus S and G form one simple chain). */
export function pathIsValid(tokens: readonly number[], prediction: ArrayLike<number>): boolean {
  const n = Math.round(Math.sqrt(tokens.length));
  const start = tokens.indexOf(3);
  const goal = tokens.indexOf(4);
  if (start < 0 || goal < 0) return false;
  const on = new Set(predictedPath(prediction));
  for (const i of on) if (tokens[i] !== 2) return false; // only open cells may become path
  on.add(start);
  on.add(goal);
  const nbrs = (i: number): number[] => {
    const r = Math.floor(i / n);
    const c = i % n;
    return [r > 0 ? i - n : -1, r < n - 1 ? i + n : -1, c > 0 ? i - 1 : -1, c < n - 1 ? i + 1 : -1].filter((j) => j >= 0 && on.has(j));
  };
  if (nbrs(start).length !== 1 || nbrs(goal).length !== 1) return false;
  for (const i of on) if (i !== start && i !== goal && nbrs(i).length !== 2) return false;
  // one chain from S reaches G and uses every marked cell
  const seen = new Set<number>([start]);
  let at = start;
  while (at !== goal) {
    const next = nbrs(at).find((j) => !seen.has(j));
    if (next === undefined) return false;
    seen.add(next);
    at = next;
  }
  return seen.size === on.size;
}

/** The backend a choice resolves to, given what the browser offers. */
export function resolveBackend(choice: 'auto' | 'webgpu' | 'cpu', webgpu: boolean, fallbackAdapter: boolean | null): 'webgpu' | 'cpu' {
  if (choice === 'cpu' || !webgpu) return 'cpu';
  if (choice === 'webgpu') return 'webgpu';
  // auto: a software adapter is usually slower than the wasm CPU path
  return fallbackAdapter === true ? 'cpu' : 'webgpu';
}
