import { describe, expect, it } from 'vitest';
import { changedCells, describeStep, moveIndex, validateTrace } from '../src/trace';
import { syntheticTrace } from './synthetic-trace';

describe('trace navigation (synthetic test data)', () => {
  const t = syntheticTrace(2, 2, 3); // per segment: 2 × (3 L + 1 H) = 8 steps; 16 in all
  it('has the expected shape', () => {
    expect(t.steps).toHaveLength(16);
    expect(t.steps.filter((s) => s.module === 'H')).toHaveLength(4);
  });
  it('steps by L step and clamps at both ends', () => {
    expect(moveIndex(t, 0, 'L', 1)).toBe(1);
    expect(moveIndex(t, 0, 'L', -1)).toBe(0);
    expect(moveIndex(t, 15, 'L', 1)).toBe(15);
  });
  it('steps to the next and previous H update', () => {
    expect(moveIndex(t, 0, 'H', 1)).toBe(3);
    expect(moveIndex(t, 3, 'H', 1)).toBe(7);
    expect(moveIndex(t, 7, 'H', -1)).toBe(3);
    expect(moveIndex(t, 2, 'H', -1)).toBe(0); // none before: the start
    for (let i = 0; i < 16; i++) {
      const j = moveIndex(t, i, 'H', 1);
      if (j !== 15) expect(t.steps[j]!.module).toBe('H');
      expect(j).toBeGreaterThanOrEqual(i);
    }
  });
  it('steps by segment', () => {
    expect(moveIndex(t, 0, 'segment', 1)).toBe(8);
    expect(moveIndex(t, 8, 'segment', 1)).toBe(15);
    expect(moveIndex(t, 12, 'segment', -1)).toBe(8);
    expect(moveIndex(t, 8, 'segment', -1)).toBe(0);
  });
  it('marks changed cells against the previous step', () => {
    expect(changedCells(t, 0).every((c) => c)).toBe(true);
    const ch = changedCells(t, 1);
    const expected = Array.from(t.steps[1]!.prediction, (p, i) => p !== t.steps[0]!.prediction[i]);
    expect(ch).toEqual(expected);
    expect(ch.some((c) => c)).toBe(true);
    expect(ch.some((c) => !c)).toBe(true); // givens never change
  });
  it('describes steps', () => {
    expect(describeStep(t, 0)).toBe('step 1/16 · segment 1 · H cycle 1, L step 1');
    expect(describeStep(t, 3)).toBe('step 4/16 · segment 1 · H update 1');
  });
  it('refuses malformed traces with a reason', () => {
    expect(validateTrace(t)).toBeNull();
    expect(validateTrace({ ...t, steps: [] })).toMatch(/no steps/);
    const bad = syntheticTrace();
    bad.steps[2]!.prediction = bad.steps[2]!.prediction.subarray(0, 80);
    expect(validateTrace(bad)).toBe('step 3: 80 predictions, expected 81');
  });
});
