import { describe, expect, it } from 'vitest';
import type { TrainProgress, TrainSnapshot } from '../src/protocol';
import { controlsFor, etaSeconds, formatEta, formatRate, series, statusLine, thin, visibilityAction } from '../src/train-state';

const run = { runId: 1, task: { id: 'reverse', label: 'Reverse 8 symbols (fast)', family: 'synthetic' as const, seqLen: 8, vocabSize: 5, totalSteps: 300 }, preset: 'tiny', parameters: 1234, backend: 'cpu' as const, adapter: '', backendNote: '', step: 40, totalSteps: 300 };
const snap = (over: Partial<TrainSnapshot>): TrainSnapshot => ({ state: 'idle', pausedBy: null, run: null, history: [], evals: [], savedStep: null, message: '', ...over });
const prog = (step: number, sps = 10): TrainProgress => ({ step, totalSteps: 300, loss: 1 / step, exactAccuracy: step / 300, stepsPerSecond: sps });

describe('training panel state machine', () => {
  it('offers exactly the controls each state allows', () => {
    expect(controlsFor('idle', false, false)).toEqual({ choose: true, start: true, pause: false, resume: false, reset: false, useModel: false, exportWeights: false });
    expect(controlsFor('running', false, false)).toEqual({ choose: false, start: false, pause: true, resume: false, reset: true, useModel: true, exportWeights: true });
    expect(controlsFor('paused', false, false)).toEqual({ choose: false, start: false, pause: false, resume: true, reset: true, useModel: true, exportWeights: true });
    expect(controlsFor('done', false, false)).toEqual({ choose: false, start: false, pause: false, resume: false, reset: true, useModel: true, exportWeights: true });
    // A request in flight, or a reset asking for confirmation, disables everything else.
    for (const s of ['idle', 'running', 'paused', 'done'] as const) {
      expect(Object.values(controlsFor(s, true, false)).some((v) => v)).toBe(false);
      expect(Object.values(controlsFor(s, false, true)).some((v) => v)).toBe(false);
    }
  });

  it('pauses on hide and resumes on show only what hiding paused', () => {
    expect(visibilityAction({ state: 'running', pausedBy: null }, true)).toBe('pause');
    expect(visibilityAction({ state: 'paused', pausedBy: 'hidden' }, false)).toBe('resume');
    expect(visibilityAction({ state: 'paused', pausedBy: 'user' }, false)).toBeNull();
    expect(visibilityAction({ state: 'paused', pausedBy: 'reload' }, false)).toBeNull();
    expect(visibilityAction({ state: 'idle', pausedBy: null }, true)).toBeNull();
    expect(visibilityAction({ state: 'done', pausedBy: null }, false)).toBeNull();
  });

  it('computes and formats the ETA', () => {
    expect(etaSeconds({ step: 50, totalSteps: 150, stepsPerSecond: 10 })).toBe(10);
    expect(etaSeconds({ step: 50, totalSteps: 150, stepsPerSecond: 0 })).toBeNull();
    expect(etaSeconds({ step: 200, totalSteps: 150, stepsPerSecond: 3 })).toBe(0);
    expect(formatEta(null)).toBe('ETA unknown');
    expect(formatEta(42)).toBe('ETA 42 s');
    expect(formatEta(125)).toBe('ETA 2 min 5 s');
    expect(formatEta(7300)).toBe('ETA 2 h 2 min');
    expect(formatRate(4.04)).toBe('4.0 steps/s');
    expect(formatRate(0.05)).toBe('20.0 s/step');
    expect(formatRate(0)).toBe('… steps/s');
  });

  it('says where the run stands', () => {
    expect(statusLine(snap({}), undefined)).toMatch(/Start/);
    const evals = [{ step: 30, exactAccuracy: 0.5, accuracy: 0.8, meanSteps: 2 }];
    expect(statusLine(snap({ state: 'running', run, evals, savedStep: 20 }), prog(40, 4))).toBe(
      'Training: step 40/300 · 4.0 steps/s · ETA 1 min 5 s · held-out exact 50.0 % (step 30) · checkpoint at step 20.');
    expect(statusLine(snap({ state: 'paused', pausedBy: 'hidden', run, savedStep: 40 }), prog(40))).toMatch(/^Step 40\/300, paused while the tab was hidden · checkpoint at step 40\. Resume/);
    expect(statusLine(snap({ state: 'paused', pausedBy: 'reload', run, savedStep: 40 }), undefined)).toMatch(/restored from its checkpoint after a reload/);
    expect(statusLine(snap({ state: 'done', run: { ...run, step: 300 }, savedStep: 300 }), prog(300))).toMatch(/^Finished: 300\/300 steps/);
  });

  it('thins long series evenly and keeps the last point', () => {
    const pts = Array.from({ length: 1001 }, (_, i) => i);
    const t = thin(pts, 100);
    expect(t.length).toBeLessThanOrEqual(101);
    expect(t[0]).toBe(0);
    expect(t.at(-1)).toBe(1000);
    expect(thin([1, 2, 3], 10)).toEqual([1, 2, 3]);
  });

  it('turns the history into plot series', () => {
    const s = series([prog(1, 2), prog(2, 3)], [{ step: 2, exactAccuracy: 0.25, accuracy: 0.5, meanSteps: 1 }]);
    expect(s.loss).toEqual([[1, 1], [2, 0.5]]);
    expect(s.speed).toEqual([[1, 2], [2, 3]]);
    expect(s.heldOut).toEqual([[2, 0.25]]);
    expect(s.exact[1]![1]).toBeCloseTo(2 / 300);
  });
});
