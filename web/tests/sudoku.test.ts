import { describe, expect, it } from 'vitest';
import { box, conflicts, fromLine, isSolutionOf, toLine } from '../src/sudoku';

// A valid complete grid built from the pattern (r*3 + r/3 + c) % 9 + 1 (a Latin-square construction).
const grid = Array.from({ length: 81 }, (_, i) => {
  const r = Math.floor(i / 9);
  const c = i % 9;
  return ((r * 3 + Math.floor(r / 3) + c) % 9) + 1;
});

describe('sudoku logic', () => {
  it('the constructed grid has no conflicts and solves its own puzzle', () => {
    expect(conflicts(grid).size).toBe(0);
    const puzzle = grid.map((d, i) => (i % 2 ? d : 0));
    expect(isSolutionOf(puzzle, grid)).toBe(true);
  });
  it('finds row, column and box conflicts and only those cells', () => {
    const cells = new Array<number>(81).fill(0);
    cells[0] = 5;
    cells[8] = 5; // same row
    expect([...conflicts(cells)].sort((a, b) => a - b)).toEqual([0, 8]);
    cells[8] = 0;
    cells[72] = 5; // same column
    expect([...conflicts(cells)].sort((a, b) => a - b)).toEqual([0, 72]);
    cells[72] = 0;
    cells[20] = 5; // row 2 col 2: same box as 0
    expect(box(20)).toBe(box(0));
    expect([...conflicts(cells)].sort((a, b) => a - b)).toEqual([0, 20]);
    cells[20] = 0;
    cells[40] = 5; // different row, column and box
    expect(conflicts(cells).size).toBe(0);
  });
  it('round-trips the 81-character form', () => {
    const cells = grid.map((d, i) => (i % 3 ? 0 : d));
    const line = toLine(cells);
    expect(line).toHaveLength(81);
    expect(fromLine(line)).toEqual(cells);
    expect(fromLine(line.slice(1))).toBeNull();
    expect(fromLine(line.replace('.', 'x'))).toBeNull();
  });
  it('rejects wrong solutions', () => {
    const wrong = [...grid];
    [wrong[0], wrong[1]] = [wrong[1]!, wrong[0]!];
    expect(isSolutionOf(new Array(81).fill(0), wrong)).toBe(false);
    const puzzle = new Array<number>(81).fill(0);
    puzzle[0] = grid[0] === 1 ? 2 : 1;
    expect(isSolutionOf(puzzle, grid)).toBe(false);
  });
});

import { formatMs } from '../src/sudoku';
describe('formatMs', () => {
  it('reads coarse worker times honestly', () => {
    expect(formatMs(0)).toBe('under 0.1 ms');
    expect(formatMs(0.46)).toBe('0.5 ms');
    expect(formatMs(250.4)).toBe('250 ms');
  });
});
