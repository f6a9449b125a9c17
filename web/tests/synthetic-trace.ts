// SYNTHETIC TEST DATA — not model output. Builds a trace with the shape an HRM run has
// (segments × H cycles × (T L steps + 1 H update)) and residuals that shrink within each H cycle
// and jump at every planner update, so the player and plots can be tested before the model exists.

import type { Trace, TraceStep, SegmentEnd } from '../src/trace';

export function syntheticTrace(segments = 2, hCycles = 2, lSteps = 3, seqLen = 81): Trace {
  const steps: TraceStep[] = [];
  const segs: SegmentEnd[] = [];
  const input = Array.from({ length: seqLen }, (_, i) => (i % 3 === 0 ? 2 + (i % 9) : 1));
  for (let s = 0; s < segments; s++) {
    for (let h = 0; h < hCycles; h++) {
      for (let l = 0; l < lSteps; l++) {
        steps.push({
          segment: s, hCycle: h, lStep: l, module: 'L',
          residualL: 10 / 2 ** l, residualH: null,
          prediction: Uint8Array.from(input, (t, i) => (t >= 2 ? t : 2 + ((i + steps.length) % 9))),
          confidence: Float32Array.from(input, () => 0.5 + 0.1 * l),
        });
      }
      steps.push({
        segment: s, hCycle: h, lStep: lSteps, module: 'H',
        residualL: null, residualH: 5 / (1 + h + s),
        prediction: Uint8Array.from(input, (t, i) => (t >= 2 ? t : 2 + (i % 9))),
        confidence: Float32Array.from(input, () => 0.9),
      });
    }
    segs.push({ segment: s, qHalt: s - 0.5, qContinue: 0.5 - s, halted: s === segments - 1 });
  }
  return { task: 'sudoku', seqLen, vocab: 11, input, steps, segments: segs };
}
