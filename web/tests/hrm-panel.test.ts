import { describe, expect, it } from 'vitest';
import { describeResult, describeRunning, describeTries, runSegments, triesPlan } from '../src/hrm-panel';
import { PcaPlot, pcaGeometry } from '../src/plots';
import type { Trace } from '../src/trace';
import { syntheticTrace } from './synthetic-trace';

describe('the status lines', () => {
  it('say which backend runs and warn about software adapters', () => {
    expect(describeRunning({ backend: 'cpu', adapter: 'wasm CPU', software: false, note: '' }, null)).toBe('The model runs on the CPU (wasm).');
    expect(describeRunning({ backend: 'webgpu', adapter: 'google / swiftshader', software: true, note: '' }, null))
      .toBe('The model runs on WebGPU on google / swiftshader. This is a software adapter: the CPU path is usually faster.');
  });
  it('judge the final Sudoku step by the rules and the givens', () => {
    // SYNTHETIC: a valid grid as the last prediction
    const sol = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
    const t: Trace = syntheticTrace(1, 1, 1);
    const last = t.steps.at(-1)!;
    last.prediction = Uint8Array.from(sol, (c) => Number(c) + 1);
    t.input = [...last.prediction].map((tok, i) => (i % 4 === 0 ? tok : 1));
    expect(describeResult(t)).toMatch(/^After 1 segment the model's answer is a valid solution; ACT's Q head says halt after segment 1\.$/);
    last.prediction[0] = last.prediction[1]!; // same digit twice in row 1, and given 1 changed
    expect(describeResult(t)).toMatch(/not a solution \(\d+ cells break a rule, 0 left blank, givens changed\)/);
  });
});

describe('the PCA plot', () => {
  it('keeps one scale for both axes and puts every point inside the box', () => {
    const g = pcaGeometry(Float32Array.from([0, 0, 2, 0, 2, 1]), { width: 200, height: 100, pad: 10 });
    expect(g.points).toHaveLength(3);
    for (const [x, y] of g.points) {
      expect(x).toBeGreaterThanOrEqual(10);
      expect(x).toBeLessThanOrEqual(190);
      expect(y).toBeGreaterThanOrEqual(10);
      expect(y).toBeLessThanOrEqual(90);
    }
    // equal data steps give equal distances on both axes: (0,0)→(2,0) is twice (2,0)→(2,1)
    const [a, b, c] = g.points as [[number, number], [number, number], [number, number]];
    expect(b[0] - a[0]).toBeCloseTo(2 * (b[1] - c[1]));
  });
  it('draws both trajectories and rings the current step', () => {
    const p = new PcaPlot(document.body);
    expect(p.element.textContent).toMatch(/no run yet/);
    p.set({ l: Float32Array.from([0, 0, 1, 1, 2, 0]), h: Float32Array.from([0, 0, 1, 0]), explainedL: [0.8, 0.2], explainedH: [1, 0], truncated: false });
    expect(p.element.querySelectorAll('.pca-point')).toHaveLength(5);
    p.setCursor('L', 1);
    expect(p.element.querySelectorAll('.cursor')).toHaveLength(1);
    expect(p.element.textContent).toMatch(/PC1 80% · PC2 20%/);
  });
});

describe('the tries plan', () => {
  it('runs a Sudoku as 16 copies for at least 32 segments and a maze as its 8 orientations for at least 16', () => {
    expect(triesPlan('sudoku', 16)).toEqual({ tries: 16, segments: 32 });
    expect(triesPlan('sudoku', 48)).toEqual({ tries: 16, segments: 48 });
    expect(triesPlan('maze', 4)).toEqual({ tries: 8, segments: 16 });
    expect(triesPlan('maze', 20)).toEqual({ tries: 8, segments: 20 });
  });
});

describe('the segments of a run', () => {
  it('are the setting when set, else the model\'s trained number, at least 16 and at most 64', () => {
    expect(runSegments(3, 32)).toBe(3);
    expect(runSegments(null, 8)).toBe(16);
    expect(runSegments(null, 16)).toBe(16);
    expect(runSegments(null, 32)).toBe(32);
    expect(runSegments(null, 100)).toBe(64);
  });
});

describe('the tries status line', () => {
  const r = { solved: true, answer: [], copy: 3, segment: 1, tries: 8, ms: 1500 };
  it('names the copy (1-based), what it was, the segments and the time', () => {
    expect(describeTries('sudoku', r, 16)).toBe('Copy 4 of 8 (digits relabelled, rows and columns shuffled) passed the rules check after 1 segment; its answer, mapped back, is shown on the board (1.5 s).');
    expect(describeTries('maze', { ...r, copy: 0, segment: 5 }, 16)).toMatch(/^Copy 1 of 8 \(the puzzle as given\) passed the rules check after 5 segments; .* on the maze/);
  });
  it('says when no copy passed, and points at the exact solver', () => {
    expect(describeTries('sudoku', { ...r, solved: false, copy: -1 }, 16)).toMatch(/^None of the 8 copies' answers passed the rules check within 16 segments .*exact solver/);
  });
});
