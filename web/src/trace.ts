// A recorded HRM run, as the worker will stream it once the model is wired: one TraceStep per
// L step and per H update inside every ACT segment, and one SegmentEnd per segment.
//
// The model's observer hook (the `core` helper's `Hrm<B>`) supplies these numbers; nothing in the
// page invents them. Tests build synthetic traces with `synthetic` in their name.

export type Task = 'sudoku' | 'maze';
export type Module = 'L' | 'H';
export type StepUnit = 'L' | 'H' | 'segment';

export interface TraceStep {
  /** ACT segment, from 0. */
  segment: number;
  /** H cycle within the segment, from 0. */
  hCycle: number;
  /** L step within the H cycle, from 0; for an H update, the number of L steps before it. */
  lStep: number;
  /** Which module just ran. */
  module: Module;
  /** ‖z_L(k) − z_L(k−1)‖ for an L step, null for an H update (z_L did not change). */
  residualL: number | null;
  /** ‖z_H(k) − z_H(k−1)‖ for an H update, null for an L step. */
  residualH: number | null;
  /** argmax of lm_head(z_H) per cell (after an H update), or of the planner preview
   *  lm_head(f_H(z_H, z_L)) — what the head would read if the planner updated now — after an L step.
   *  Token ids in the task's vocabulary. */
  prediction: Uint8Array;
  /** Probability of the chosen token per cell, in [0, 1]. */
  confidence: Float32Array;
  /** Optional full distributions, row-major [cell][token]; shown for one cell on hover or tap. */
  probs?: Float32Array;
}

export interface SegmentEnd {
  segment: number;
  /** Q-head logits for this segment. */
  qHalt: number;
  qContinue: number;
  /** Whether ACT halted after this segment (only when halting is on at evaluation). */
  halted: boolean;
}

export interface Trace {
  task: Task;
  seqLen: number;
  vocab: number;
  /** The input tokens (givens for Sudoku, the maze for mazes). */
  input: number[];
  steps: TraceStep[];
  segments: SegmentEnd[];
  /** The 2-D PCA of the run's z_L and z_H states (one point per L step / H update), once done. */
  pca?: TracePca;
  /** Worker-side wall time of each segment (ms), once the run is done. */
  msPerSegment?: number[];
  /** How the per-cell probabilities were computed: the model's own output function. */
  distribution?: 'stablemax' | 'softmax';
}

export interface TracePca {
  /** [x0, y0, x1, y1, …] per L step (l) and per H update (h), in run order. */
  l: Float32Array;
  h: Float32Array;
  /** Share of the trajectory's variance on PC1 and PC2. */
  explainedL: [number, number];
  explainedH: [number, number];
  /** True when the run was too long to keep every state (the PCA covers the first ones). */
  truncated: boolean;
}

/** Index of the step `unit` away from `from` in direction `dir`, clamped to the recorded run. */
export function moveIndex(trace: Trace, from: number, unit: StepUnit, dir: 1 | -1): number {
  const n = trace.steps.length;
  if (n === 0) return 0;
  const at = Math.min(Math.max(from, 0), n - 1);
  if (unit === 'L') return Math.min(Math.max(at + dir, 0), n - 1);
  const matches = (i: number): boolean => {
    const s = trace.steps[i]!;
    if (unit === 'H') return s.module === 'H';
    // segment: the first step of a segment
    return i === 0 || trace.steps[i - 1]!.segment !== s.segment;
  };
  for (let i = at + dir; i >= 0 && i < n; i += dir) {
    if (matches(i)) return i;
  }
  return dir === 1 ? n - 1 : 0;
}

/** Cells whose prediction differs from the previous step's (all cells at the first step). */
export function changedCells(trace: Trace, index: number): boolean[] {
  const step = trace.steps[index];
  if (!step) return [];
  const prev = trace.steps[index - 1];
  return Array.from(step.prediction, (t, i) => !prev || prev.prediction[i] !== t);
}

/** A one-line description of where a step sits, for the player's label and screen readers. */
export function describeStep(trace: Trace, index: number): string {
  const s = trace.steps[index];
  if (!s) return 'no steps recorded';
  const what = s.module === 'H' ? `H update ${s.hCycle + 1}` : `H cycle ${s.hCycle + 1}, L step ${s.lStep + 1}`;
  return `step ${index + 1}/${trace.steps.length} · segment ${s.segment + 1} · ${what}`;
}

/** Checks a trace's shape before the player accepts it, so a malformed one is a message, not a crash. */
export function validateTrace(trace: Trace): string | null {
  if (trace.steps.length === 0) return 'the trace has no steps';
  for (const [i, s] of trace.steps.entries()) {
    if (s.prediction.length !== trace.seqLen) return `step ${i + 1}: ${s.prediction.length} predictions, expected ${trace.seqLen}`;
    if (s.confidence.length !== trace.seqLen) return `step ${i + 1}: ${s.confidence.length} confidences, expected ${trace.seqLen}`;
    if (s.probs && s.probs.length !== trace.seqLen * trace.vocab) return `step ${i + 1}: probs has ${s.probs.length} values, expected ${trace.seqLen * trace.vocab}`;
  }
  return null;
}
