import { describe, expect, it } from 'vitest';
import { cropStep, cropTokens, embedMaze, mismatch, pathIsValid, predictedPath, resolveBackend } from '../src/hrm-input';
import type { TraceStep } from '../src/trace';

const sudokuModel = { task: 'sudoku' as const, seqLen: 81, vocab: 11, size: 9 };
const mazeModel = { task: 'maze' as const, seqLen: 144, vocab: 6, size: 12 };

describe('what a model can read', () => {
  it('accepts the right task and shape', () => {
    expect(mismatch(sudokuModel, 'sudoku', 81)).toBeNull();
    expect(mismatch(mazeModel, 'maze', 144)).toBeNull();
    expect(mismatch(mazeModel, 'maze', 100)).toBeNull(); // smaller: embedded
  });
  it('names both shapes when they do not fit', () => {
    expect(mismatch(mazeModel, 'maze', 196)).toMatch(/14×14 but the model reads 12×12/);
    expect(mismatch(sudokuModel, 'maze', 100)).toMatch(/sudoku model, not a maze model/);
    expect(mismatch({ task: 'unknown', seqLen: 50, vocab: 7, size: 7 }, 'sudoku', 81)).toMatch(/50 tokens from a vocabulary of 7/);
    expect(mismatch(mazeModel, 'maze', 99)).toMatch(/square/);
  });
});

describe('embedding a smaller maze in the model\'s size', () => {
  // 2x2: S open / wall G
  const small = [3, 2, 1, 4];
  it('surrounds it with walls at the top-left', () => {
    const { tokens, place } = embedMaze(small, 3);
    expect(place).toEqual({ inner: 2, outer: 3 });
    expect(tokens).toEqual([3, 2, 1, 1, 4, 1, 1, 1, 1]);
  });
  it('crops every per-cell array of a step back to the drawn maze', () => {
    const { place } = embedMaze(small, 3);
    const step: TraceStep = {
      segment: 0, hCycle: 0, lStep: 0, module: 'H', residualL: null, residualH: 1,
      prediction: Uint8Array.from([3, 5, 1, 1, 4, 1, 1, 1, 1]),
      confidence: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
      probs: Float32Array.from({ length: 9 * 2 }, (_, i) => i),
    };
    const c = cropStep(step, place, 2);
    expect([...c.prediction]).toEqual([3, 5, 1, 4]);
    expect([...c.confidence]).toEqual([0.1, 0.2, 0.4, 0.5].map(Math.fround));
    // cells 0, 1, 3, 4 of the 3x3 grid, two tokens each
    expect([...c.probs!]).toEqual([0, 1, 2, 3, 6, 7, 8, 9]);
    expect(cropStep(step, { inner: 3, outer: 3 }, 2)).toBe(step);
  });
  it('crops an answer of the outer grid (tries) back to the drawn maze', () => {
    const { tokens, place } = embedMaze(small, 3);
    expect(cropTokens(tokens, place)).toEqual(small);
    expect(cropTokens([3, 5, 1, 9, 4, 1, 1, 1, 1], place)).toEqual([3, 5, 9, 4]);
  });
});

describe('predicted paths', () => {
  // 3x3: S . .  /  # # .  /  G . .   (route S→right→right→down→down→left→left)
  const maze = [3, 2, 2, 1, 1, 2, 4, 2, 2];
  it('finds the path cells', () => {
    expect(predictedPath([3, 5, 5, 1, 1, 5, 4, 5, 5])).toEqual([1, 2, 5, 7, 8]);
  });
  it('accepts a chain from S to G through open cells', () => {
    expect(pathIsValid(maze, [3, 5, 5, 1, 1, 5, 4, 5, 5])).toBe(true);
  });
  it('refuses broken, branching or wall-crossing paths', () => {
    expect(pathIsValid(maze, [3, 5, 5, 1, 1, 2, 4, 5, 5])).toBe(false); // gap
    expect(pathIsValid(maze, [3, 5, 5, 5, 1, 5, 4, 5, 5])).toBe(false); // through a wall
    expect(pathIsValid(maze, [3, 2, 2, 1, 1, 2, 4, 2, 2])).toBe(false); // no path at all
  });
});

describe('backend choice', () => {
  it('auto avoids a software adapter; an explicit choice is kept when possible', () => {
    expect(resolveBackend('auto', true, true)).toBe('cpu');
    expect(resolveBackend('auto', true, false)).toBe('webgpu');
    expect(resolveBackend('auto', true, null)).toBe('webgpu');
    expect(resolveBackend('webgpu', true, true)).toBe('webgpu');
    expect(resolveBackend('webgpu', false, null)).toBe('cpu');
    expect(resolveBackend('cpu', true, false)).toBe('cpu');
  });
});
